// Every network step is bounded (issue 12): servers on 127.0.0.1 that (a) accept TCP and never speak, (b) complete
// TLS and never send headers, (c) send headers and stall the body, (d) trickle bytes slowly. check, in and out end
// with exit 3 naming the server and the step; idempotent requests (and any request cut before it was sent) are
// tried once more with a line; a watch's connect, handshake and headers are bounded too, its body is idle-bounded
// (the caller resumes it). Messages and exit codes are asserted, not timings; a generous ceiling catches a hang.
import { afterEach, describe, expect, test } from 'vitest';
import { resolveClusterAuth } from '../../src/cluster/auth.js';
import { kubeConfigFor } from '../../src/cluster/kubeconfig.js';
import { StepTimeoutError } from '../../src/cluster/errors.js';
import { createTransport } from '../../src/cluster/transport.js';
import { parseCheckRequest } from '../../src/request/parse.js';
import { readSource, useNamespace } from '../support/cluster.js';
import { startFaultProxy, type Fault, type FaultProxy } from '../support/fault-proxy.js';
import {
  loopbackPki,
  startMisbehavingServer,
  type LoopbackServer,
  type Misbehaviour,
} from '../support/loopback-servers.js';
import { emptyDir } from '../support/release.js';
import { lines, runScript } from '../support/run-script.js';
import { readyImage } from '../support/images.js';

let server: LoopbackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const sourceFor = (url: string) => ({
  cluster_url: url,
  cluster_ca: Buffer.from(loopbackPki().caPem).toString('base64'),
  token: 'bounds-test-token-0123456789',
  namespace: 'bounds',
  app: 'web',
  request_timeout: '1s',
});

const stepMessage: Record<Misbehaviour, (url: string) => string> = {
  'silent-tcp': (url) => `no answer to the TLS handshake from ${url} within 1s`,
  'no-headers': (url) => `no response from ${url} within 1s (the request was sent; no response headers came)`,
  'stalled-body': (url) => `the response body from ${url} did not arrive within 1s (stalled or trickling)`,
  trickle: (url) => `the response body from ${url} did not arrive within 1s (stalled or trickling)`,
};
const kinds = Object.keys(stepMessage) as Misbehaviour[];
// A hang would run into the runner's own 180 s kill; anything near 2x the bound plus start-up passes.
const ceilingMs = 20_000;

describe('check and in against a server that misbehaves: exit 3 naming the server and the step, one retry', () => {
  test.each(kinds)('check: %s', async (kind) => {
    server = await startMisbehavingServer(kind);
    const run = await runScript('check', { source: sourceFor(server.url) });
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toBe('');
    const message = stepMessage[kind](server.url);
    expect(lines(run.stderr).at(-1)).toBe(`error: ${message}`);
    expect(lines(run.stderr).filter((l) => l.startsWith('retrying '))).toEqual([
      `retrying list secrets in namespace bounds in 0.5s (attempt 2 of 5): ${message}`,
    ]);
    expect(server.hits()).toBe(2);
    expect(run.durationMs).toBeLessThan(ceilingMs);
  });

  test.each(kinds)('in: %s', async (kind) => {
    server = await startMisbehavingServer(kind);
    const version = { app: 'web', namespace: 'bounds', revision: '1', image: readyImage('1').tagRef };
    const run = await runScript('in', { source: sourceFor(server.url), version }, { dir: emptyDir() });
    expect(run.code, run.stderr).toBe(3);
    const message = stepMessage[kind](server.url);
    expect(lines(run.stderr).at(-1)).toBe(`error: ${message}`);
    expect(lines(run.stderr).filter((l) => l.startsWith('retrying '))).toEqual([
      `retrying read secret/kdr-release.web.v1 in namespace bounds in 0.5s (attempt 2 of 5): ${message}`,
    ]);
    expect(run.durationMs).toBeLessThan(ceilingMs);
  });
});

describe('out (apply) against a server that misbehaves', () => {
  test.each(kinds)('out: %s', async (kind) => {
    server = await startMisbehavingServer(kind);
    const run = await runScript(
      'out',
      { source: sourceFor(server.url), params: { image_ref: readyImage('1').tagRef, timeout: '30s' } },
      { dir: emptyDir() },
    );
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toBe('');
    const message = stepMessage[kind](server.url);
    expect(lines(run.stderr).at(-1)).toBe(`error: ${message}`);
    // The first request creates the lock (not idempotent): tried again only when it was cut before it was sent.
    const retries = lines(run.stderr).filter((l) => l.startsWith('retrying '));
    if (kind === 'silent-tcp')
      expect(retries).toEqual([
        `retrying create lease/kdr-lock.web in namespace bounds in 0.5s (attempt 2 of 5): ${message}`,
      ]);
    else expect(retries).toEqual([]);
    expect(run.durationMs).toBeLessThan(ceilingMs);
  });
});

describe('watch requests against a server that misbehaves (the transport under the rollout wait)', () => {
  const auth = (url: string) => resolveClusterAuth(parseCheckRequest({ source: sourceFor(url) }).source);
  function watch(url: string, idleMs: number) {
    const kc = kubeConfigFor(auth(url));
    const transport = createTransport(async () => kc, { requestTimeoutMs: 1000, proxyFor: () => undefined });
    const received: string[] = [];
    let stop: () => void = () => undefined;
    const ended = new Promise<unknown>((resolve) => {
      stop = transport.stream(
        new URL(`${url}/api/v1/namespaces/bounds/pods?watch=true`),
        {},
        (line) => received.push(line),
        resolve,
        idleMs,
      );
    });
    return { ended, received, stop };
  }

  test.each<[Misbehaviour, string]>([
    ['silent-tcp', 'tls'],
    ['no-headers', 'headers'],
  ])('%s: the watch ends within the request bound, naming the step (%s); the caller resumes it', async (kind, step) => {
    server = await startMisbehavingServer(kind);
    const started = Date.now();
    const error = await watch(server.url, 60_000).ended;
    expect(error).toBeInstanceOf(StepTimeoutError);
    expect((error as StepTimeoutError).step).toBe(step);
    expect((error as StepTimeoutError).boundMs).toBe(1000);
    expect(Date.now() - started).toBeLessThan(ceilingMs);
  });

  test(
    'stalled body: headers came, then silence: the watch ends after its idle bound (as today), ' +
      'not the request bound',
    async () => {
      server = await startMisbehavingServer('stalled-body');
      const w = watch(server.url, 2500);
      // Past the request bound: still open.
      const early = await Promise.race([
        w.ended.then(() => 'ended'),
        new Promise((r) => setTimeout(() => r('open'), 1800)),
      ]);
      expect(early).toBe('open');
      const error = await w.ended;
      expect(String(error)).toContain('watch idle');
    },
  );

  test('trickle: a watch that keeps sending is alive, whatever the request bound', async () => {
    server = await startMisbehavingServer('trickle');
    const w = watch(server.url, 1000);
    const state = await Promise.race([
      w.ended.then(() => 'ended'),
      new Promise((r) => setTimeout(() => r('open'), 3000)),
    ]);
    expect(state).toBe('open');
    w.stop();
    expect(await w.ended).toBeUndefined();
  });
});

describe(
  'out against the real cluster through a fault proxy: bounded applies are retried, ' + 'bounded watches resumed',
  () => {
    const ns = useNamespace('kdr-bounds');
    let proxy: FaultProxy | undefined;
    afterEach(async () => {
      await proxy?.close();
      proxy = undefined;
    });
    // Generous for a busy machine: normal requests must never hit it.
    const bound = '5s';
    const sourceVia = (url: string) => {
      const { cluster_ca } = readSource() as unknown as Record<string, string>;
      return {
        cluster_url: url,
        cluster_ca,
        token: 'via-fault-proxy-0123456789',
        namespace: ns.name,
        app: 'web',
        request_timeout: bound,
      };
    };
    const faults: [string, Fault, (url: string) => string][] = [
      [
        'no response headers',
        { kind: 'stall', ms: 60_000 },
        (url) => `no response from ${url} within 5s (the request was sent; no response headers came)`,
      ],
      [
        'a stalled body',
        { kind: 'stalled-body', ms: 60_000 },
        (url) => `the response body from ${url} did not arrive within 5s (stalled or trickling)`,
      ],
      [
        'a trickling body',
        { kind: 'trickle', ms: 60_000 },
        (url) => `the response body from ${url} did not arrive within 5s (stalled or trickling)`,
      ],
    ];

    test.each(faults)(
      'an apply that gets %s once is retried with a line, and the put succeeds',
      async (_name, fault, message) => {
        proxy = await startFaultProxy((r) =>
          r.method === 'PATCH' && r.path.endsWith('/deployments/web') && r.seen === 0 ? fault : { kind: 'pass' },
        );
        const put = await runScript(
          'out',
          { source: sourceVia(proxy.url), params: { image_ref: readyImage('1').tagRef } },
          { dir: emptyDir() },
        );
        expect(put.code, put.stderr).toBe(0);
        expect(lines(put.stderr).filter((l) => l.startsWith('retrying '))).toEqual([
          `retrying apply deployment/web in namespace ${ns.name} in 0.5s (attempt 2 of 5): ${message(proxy.url)}`,
        ]);
      },
    );

    test('an apply that never gets an answer: exit 3 naming the server and the step after one retry', async () => {
      proxy = await startFaultProxy((r) =>
        r.method === 'PATCH' && r.path.endsWith('/deployments/web') ? { kind: 'stall', ms: 60_000 } : { kind: 'pass' },
      );
      const put = await runScript(
        'out',
        { source: sourceVia(proxy.url), params: { image_ref: readyImage('1').tagRef } },
        { dir: emptyDir() },
      );
      expect(put.code, put.stderr).toBe(3);
      expect(lines(put.stderr).at(-1)).toBe(`error: ${faults[0]![2](proxy.url)}`);
      expect(lines(put.stderr).filter((l) => l.startsWith('retrying '))).toHaveLength(1);
      expect(put.durationMs).toBeLessThan(60_000);
      // The re-put after the failure converges.
      await proxy.close();
      proxy = await startFaultProxy(() => ({ kind: 'pass' }));
      const again = await runScript(
        'out',
        { source: sourceVia(proxy.url), params: { image_ref: readyImage('1').tagRef } },
        { dir: emptyDir() },
      );
      expect(again.code, again.stderr).toBe(0);
      const del = await runScript(
        'out',
        { source: sourceVia(proxy.url), params: { delete: true } },
        { dir: emptyDir() },
      );
      expect(del.code, del.stderr).toBe(0);
    });

    test.each(faults)(
      'watches that get %s: bounded (or idle-bounded) and resumed; the resync sees the rollout through',
      { timeout: 180_000 },
      async (name, fault) => {
        proxy = await startFaultProxy((r) => (r.watch ? fault : { kind: 'pass' }));
        const put = await runScript(
          'out',
          { source: sourceVia(proxy.url), params: { image_ref: readyImage('1').tagRef, timeout: '2m' } },
          { dir: emptyDir() },
        );
        expect(put.code, put.stderr).toBe(0);
        expect(lines(put.stderr)).toContain('deployment/web: successfully rolled out (1 of 1 replicas available)');
        expect(proxy.log.filter((l) => l.request.watch).length).toBeGreaterThanOrEqual(3);
        // A watch without headers is cut at the bound, with a line (the rollout wait resumes it); a watch whose body
        // stalls or trickles is left to its idle bound (90 s, longer than this put).
        const cut = lines(put.stderr).filter((l) =>
          /^watch (deployments|replicasets|pods) in namespace \S+ ended: /.test(l),
        );
        if (name === 'no response headers') {
          expect(cut.length).toBeGreaterThanOrEqual(1);
          for (const line of cut)
            expect(line).toMatch(
              new RegExp(
                String.raw` ended: no response from https://127\.0\.0\.1:\d+ within 5s ` +
                  String.raw`\(the request was sent; no response headers came\)$`,
              ),
            );
        } else expect(cut).toEqual([]);
      },
    );
  },
);
