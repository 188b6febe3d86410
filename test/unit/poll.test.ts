// The one poll loop (src/time.ts pollUntil) and the one wait for deleted objects (src/engine/gone.ts) on the fake
// clock: when they look, how long they pause, how they end (value, timeout, abort, error).
import { describe, expect, test } from 'vitest';
import { waitUntilGone } from '../../src/engine/gone.js';
import { AbortedError, TimedOutError } from '../../src/errors.js';
import type { KubeObject } from '../../src/kube/object.js';
import { memoryLogger } from '../../src/log.js';
import { Deadline, pollUntil } from '../../src/time.js';
import { FakeClock } from '../support/fake-cluster.js';

/** A probe that records when it looked and answers `value` from the `doneAt`-th look on (never, when undefined). */
function probeOn(clock: FakeClock, doneAt?: number, value = 'done') {
  const looks: number[] = [];
  const start = clock.now();
  const probe = async () => {
    looks.push(clock.now() - start);
    return doneAt !== undefined && looks.length >= doneAt ? value : undefined;
  };
  return { looks, probe };
}

describe('pollUntil', () => {
  test("returns the probe's first value, looking once without a pause when it is there at once", async () => {
    const clock = new FakeClock();
    const { looks, probe } = probeOn(clock, 1, 'lease');
    const options = { deadline: new Deadline(clock, 10_000), clock, intervalMs: 100, waitingFor: () => 'x' };
    expect(await clock.run(pollUntil(probe, options))).toBe('lease');
    expect(looks).toEqual([0]);
    expect(clock.pending).toBe(0);
  });

  test('pauses double from intervalMs up to maxIntervalMs', async () => {
    const clock = new FakeClock();
    const { looks, probe } = probeOn(clock, 8);
    const deadline = new Deadline(clock, 60_000);
    await clock.run(pollUntil(probe, { deadline, clock, intervalMs: 100, maxIntervalMs: 1000, waitingFor: () => 'x' }));
    expect(looks).toEqual([0, 100, 300, 700, 1500, 2500, 3500, 4500]);
  });

  test('without maxIntervalMs every pause is intervalMs', async () => {
    const clock = new FakeClock();
    const { looks, probe } = probeOn(clock, 4);
    await clock.run(
      pollUntil(probe, { deadline: new Deadline(clock, 60_000), clock, intervalMs: 2000, waitingFor: () => 'x' }),
    );
    expect(looks).toEqual([0, 2000, 4000, 6000]);
  });

  test('the last look is at the deadline (no pause runs past it), then TimedOutError with waitingFor', async () => {
    const clock = new FakeClock();
    const { looks, probe } = probeOn(clock);
    let asked = 0;
    const waitingFor = () => {
      asked++;
      return `waiting for job/migrate after ${looks.length} looks`;
    };
    const error = await clock
      .run(pollUntil(probe, { deadline: new Deadline(clock, 2500), clock, intervalMs: 1000, waitingFor }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimedOutError);
    expect((error as Error).message).toBe('timed out after 2.5s waiting for job/migrate after 4 looks');
    expect(looks).toEqual([0, 1000, 2000, 2500]);
    expect(asked).toBe(1);
    expect(clock.pending).toBe(0);
  });

  test('an abort during a pause ends the wait at once with the abort reason; no look after it', async () => {
    const clock = new FakeClock();
    const { looks, probe } = probeOn(clock);
    const controller = new AbortController();
    const reason = new AbortedError('aborted: SIGTERM');
    clock.setTimeout(() => controller.abort(reason), 1500);
    const started = clock.now();
    const deadline = new Deadline(clock, 60_000);
    const error = await clock
      .run(pollUntil(probe, { deadline, clock, signal: controller.signal, intervalMs: 1000, waitingFor: () => 'x' }))
      .catch((e: unknown) => e);
    expect(error).toBe(reason);
    expect(looks).toEqual([0, 1000]);
    expect(clock.now() - started).toBe(1500);
    expect(clock.pending).toBe(0);
  });

  test('a signal aborted without an Error: AbortedError; aborted before the first pause: one look only', async () => {
    const clock = new FakeClock();
    const { looks, probe } = probeOn(clock);
    const controller = new AbortController();
    controller.abort('just a string');
    const error = await clock
      .run(
        pollUntil(probe, {
          deadline: new Deadline(clock, 60_000),
          clock,
          signal: controller.signal,
          intervalMs: 1000,
          waitingFor: () => 'x',
        }),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as Error).message).toBe('aborted');
    expect(looks).toEqual([0]);
  });

  test('an error of the probe ends the wait with it, without looking again', async () => {
    const clock = new FakeClock();
    let looks = 0;
    const broken = new Error('the API server said no');
    const probe = async () => {
      looks++;
      if (looks === 2) throw broken;
      return undefined;
    };
    const error = await clock
      .run(pollUntil(probe, { deadline: new Deadline(clock, 60_000), clock, intervalMs: 100, waitingFor: () => 'x' }))
      .catch((e: unknown) => e);
    expect(error).toBe(broken);
    expect(looks).toBe(2);
  });
});

describe('waitUntilGone', () => {
  const pod = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' } });

  test('says what is left once per change (to progress), and words the timeout from the last look', async () => {
    const clock = new FakeClock();
    const progress = memoryLogger();
    // Two pods, then one for good.
    const answers = [[pod('a'), pod('b')], [pod('a'), pod('b')], [pod('b')]];
    let look = 0;
    const remaining = async () => answers[Math.min(look++, answers.length - 1)]!;
    const error = await clock
      .run(
        waitUntilGone(
          { deadline: new Deadline(clock, 3000), clock, pollMs: 200, maxPollMs: 1000, progress },
          remaining,
          (left) => `waiting for release web to be deleted: ${left.map((o) => o.metadata.name).join(', ')} still there`,
        ),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimedOutError);
    expect((error as Error).message).toBe('timed out after 3.0s waiting for release web to be deleted: b still there');
    expect(progress.lines).toEqual([
      'waiting for 2 objects to be deleted: pod/a, pod/b',
      'waiting for 1 object to be deleted: pod/b',
    ]);
  });

  test('returns once nothing is left; says nothing without a progress logger', async () => {
    const clock = new FakeClock();
    let look = 0;
    const remaining = async () => (++look < 3 ? [pod('a')] : []);
    const started = clock.now();
    await clock.run(
      waitUntilGone(
        { deadline: new Deadline(clock, 60_000), clock, pollMs: 100, maxPollMs: 1000 },
        remaining,
        () => 'x',
      ),
    );
    expect(look).toBe(3);
    expect(clock.now() - started).toBe(300);
  });
});
