// The tail of a failed container's log: bounded, safe to print, and said plainly when it cannot be read.
import { describe, expect, test } from 'vitest';
import type { ClusterApi } from '../../src/cluster/api.js';
import { describeLogTail, logTail, readLogTail, tailLines } from '../../src/rollout/logs.js';
import { FakeCluster } from '../support/fake-cluster.js';

const source = { pod: 'web-1', container: 'web', previous: true };

describe('tailLines', () => {
  test('keeps the last 20 lines and drops trailing empty ones', () => {
    const text = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n') + '\n\n\n';
    const lines = tailLines(text);
    expect(lines).toHaveLength(logTail.lines);
    expect(lines[0]).toBe('line 11');
    expect(lines.at(-1)).toBe('line 30');
  });

  test('keeps whole lines up to 4 KiB from the end; never cuts a line (a cut secret would escape the redactor)', () => {
    const long = 'x'.repeat(450);
    const lines = tailLines(Array.from({ length: 20 }, (_, i) => `${i} ${long}`).join('\n'));
    expect(lines.join('\n').length).toBeLessThanOrEqual(logTail.bytes);
    expect(lines.at(-1)).toBe(`19 ${long}`);
    expect(lines.length).toBe(Math.floor(logTail.bytes / (long.length + 4)));
    expect(tailLines(`before\n${'y'.repeat(5000)}\nafter`)).toEqual([
      'before',
      '[a line of 5000 bytes, longer than 4096: not shown]',
      'after',
    ]);
    // The server stopped at limitBytes in the middle of the last line: that part line is not shown.
    const cut = `first\nsecond\n${'z'.repeat(logTail.requestBytes)}`.slice(0, logTail.requestBytes);
    expect(tailLines(cut)).toEqual(['first', 'second']);
  });

  test('removes colour codes and control characters: a log cannot rewrite the build log', () => {
    expect(tailLines('\u001b[31merror\u001b[0m: boom\r\nbell\u0007 and\ttab\u0000')).toEqual([
      'error: boom',
      'bell and\ttab',
    ]);
  });

  test('an empty log is said to be empty', () => {
    expect(describeLogTail({ ...source, previous: false }, '\n')).toBe('; container web wrote nothing to its log');
  });
});

describe('readLogTail', () => {
  const setup = () => {
    const fake = new FakeCluster({ namespaces: ['ns'] });
    fake.seed({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'ns' } });
    return fake;
  };
  const read = (cluster: ClusterApi, fake: FakeCluster, giveUpIn = 60_000) =>
    readLogTail(cluster, 'ns', source, { clock: fake.clock, giveUpAt: fake.clock.now() + giveUpIn });

  test('reads the previous run of a restarting container', async () => {
    const fake = setup().setLog('ns', 'web-1', 'web', 'crashed\n', true).setLog('ns', 'web-1', 'web', 'starting\n');
    expect(await read(fake.client(), fake)).toBe(
      '; last log line of container web (its previous run, the one that exited): crashed',
    );
  });

  test('falls back to the current run when the kubelet no longer has the previous one', async () => {
    const fake = setup().setLog('ns', 'web-1', 'web', 'starting\nexiting 1\n');
    expect(await read(fake.client(), fake)).toBe('; last 2 log lines of container web: starting ⏎ exiting 1');
  });

  test('says plainly why a log cannot be read: no pods/log, or the kubelet out of reach', async () => {
    const fake = setup().fail({ verb: 'podLog', status: 403, message: 'pods "web-1" is forbidden' });
    const forbidden = await read(fake.client(), fake);
    expect(forbidden).toMatch(
      /^; the log of container web \(its previous run, the one that exited\) could not be read: /,
    );
    expect(forbidden).toContain(
      'the credentials may not get pods/log in namespace ns (add it to the Role): forbidden (403)',
    );
    fake.fail({ verb: 'podLog', status: 502, message: 'dial tcp 127.0.0.1:10250: connect: connection refused' });
    const unreachable = await read(fake.client(), fake);
    expect(unreachable).toContain("could not be read: the API server could not get it from the node's kubelet");
    expect(unreachable).toMatch(/502 dial tcp 127\.0\.0\.1:10250: connect: connection refused$/);
  });

  test('never waits for a log longer than 5 s, nor past the deadline', async () => {
    const fake = setup();
    const hanging = { ...fake.client(), podLog: () => new Promise<string>(() => undefined) } as ClusterApi;
    const slow = read(hanging, fake);
    await fake.clock.advance(logTail.readMs);
    expect(await slow).toBe(
      '; the log of container web (its previous run, the one that exited) could not be read within 5s',
    );
    const late = read(hanging, fake, 1000);
    await fake.clock.advance(1000);
    expect(await late).toMatch(/could not be read before the put's timeout$/);
  });
});
