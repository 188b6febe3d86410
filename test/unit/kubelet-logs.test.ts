// The kubelet stand-in's log endpoint (test/cluster/kubelet-logs.ts): what each image "prints", and which run's log a
// kubelet serves. The HTTPS side is proven against the real API server (test/integration/rollout-logs.test.ts).
import { describe, expect, test } from 'vitest';
import { containerLog, limitLog, printedLines } from '../cluster/kubelet-logs.js';

const pod = (image: string, status: Record<string, unknown>, env?: unknown[]) => ({
  metadata: { name: 'web-1' },
  spec: { containers: [{ name: 'web', image, ...(env ? { env } : {}) }] },
  status: { containerStatuses: [{ name: 'web', ...status }] },
});
const crashLooping = {
  restartCount: 2,
  state: { waiting: { reason: 'CrashLoopBackOff' } },
  lastState: { terminated: { exitCode: 1 } },
};

describe('what the stand-in containers print', () => {
  test('a text per image name, after the lines of TEST_PRINT', () => {
    expect(printedLines('registry.local/crashing/web:1', [], 1)).toEqual([
      'connecting to db:5432',
      'error: cannot connect to db:5432: connection refused',
      'exiting with code 1',
    ]);
    expect(printedLines('registry.local/hanging/web@sha256:00', [])).toEqual([
      'waiting for db:5432 to accept connections',
    ]);
    expect(printedLines('registry.local/team/web:1', [{ name: 'TEST_PRINT', value: 'a\nb' }])).toEqual([
      'a',
      'b',
      'listening on :8080',
    ]);
  });

  test('a crash-looping container serves its last run, previous or not; the first run has no previous', () => {
    const crashing = pod('registry.local/crashing/web:1', crashLooping);
    expect(containerLog(crashing, 'web', true)).toEqual({
      status: 200,
      text: 'connecting to db:5432\nerror: cannot connect to db:5432: connection refused\nexiting with code 1\n',
    });
    expect(containerLog(crashing, 'web', false)).toEqual(containerLog(crashing, 'web', true));
    const running = pod('registry.local/team/web:1', { restartCount: 0, state: { running: {} } });
    expect(containerLog(running, 'web', false)).toEqual({ status: 200, text: 'listening on :8080\n' });
    expect(containerLog(running, 'web', true)).toEqual({
      status: 400,
      text: 'previous terminated container "web" in pod "web-1" not found',
    });
  });

  test('no log before the container ran, as a kubelet says it', () => {
    const pulling = pod('registry.local/unpullable/web:1', { state: { waiting: { reason: 'ImagePullBackOff' } } });
    expect(containerLog(pulling, 'web', false)).toEqual({
      status: 400,
      text: 'container "web" in pod "web-1" is waiting to start: trying and failing to pull image',
    });
    expect(containerLog(pulling, 'sidecar', false).status).toBe(400);
  });

  test('tailLines, then limitBytes', () => {
    expect(limitLog('1\n2\n3\n', 2)).toBe('2\n3\n');
    expect(limitLog('1\n2\n3\n', 2, 3)).toBe('2\n3');
    expect(limitLog('1\n2\n3\n', 0)).toBe('');
    expect(limitLog('1\n2\n3\n')).toBe('1\n2\n3\n');
  });
});
