// Time for every wait: one clock (injectable, so tests run in microseconds), Go-style durations, one deadline per
// operation, one abortable sleep that every loop (rollout, teardown, lock, retries) uses, and one poll loop on top of
// them for every "look again until done" (lock, Jobs, teardown).
import { AbortedError, TimedOutError } from './errors.js';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

// Go-style durations ("90s", "5m", "1h30m", "500ms"), as Concourse users write them everywhere else.
const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const whole = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** Milliseconds of a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!whole.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(part)) total += Number(amount) * unitMs[unit!]!;
  // "999…9s" (hundreds of digits) is Infinity, not a duration.
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${Math.round(seconds % 60)}s`;
  return `${Math.floor(minutes / 60)}h${minutes % 60}m`;
}

/** The abort reason as one of our errors (exit 7), whatever the signal was aborted with. */
export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new AbortedError('aborted');
}

/** Waits `ms` on the clock; rejects with the abort reason as soon as the signal fires. */
export function sleep(ms: number, clock: Clock = systemClock, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(abortReason(signal!));
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * One deadline for a whole operation (a put: lock wait, apply, rollout; a teardown): every wait inside it takes
 * what is left, so the user's `timeout` bounds the operation, not each step.
 */
export class Deadline {
  readonly at: number;
  constructor(
    readonly clock: Clock,
    /** The budget as the user gave it, for messages. */
    readonly totalMs: number,
    startedAt = clock.now(),
  ) {
    this.at = startedAt + totalMs;
  }
  static after(totalMs: number, clock: Clock = systemClock): Deadline {
    return new Deadline(clock, totalMs);
  }
  remainingMs(): number {
    return Math.max(0, this.at - this.clock.now());
  }
  expired(): boolean {
    return this.clock.now() >= this.at;
  }
  /** The error to throw when the budget ran out: "timed out after 5m0s waiting for …". */
  timedOut(waitingFor: string): TimedOutError {
    return new TimedOutError(`timed out after ${formatDuration(this.totalMs)} ${waitingFor}`);
  }
}

export interface PollOptions {
  deadline: Deadline;
  clock: Clock;
  signal?: AbortSignal;
  /** The first pause between two looks. */
  intervalMs: number;
  /** Pauses double up to this one; without it, every pause is `intervalMs`. */
  maxIntervalMs?: number;
  /** What the wait is for, for the timeout ("waiting for …"): asked only once the deadline has passed. */
  waitingFor: () => string;
}

/**
 * Looks with `probe` until it returns a value (undefined: not yet), pausing on the clock between looks. The deadline
 * is checked after a look, so the last look is at the deadline itself (then TimedOutError); a pause never runs past
 * the deadline, and the signal ends it with the abort reason.
 */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  const { deadline, clock, signal } = options;
  let intervalMs = options.intervalMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (deadline.expired()) throw deadline.timedOut(options.waitingFor());
    await sleep(Math.min(intervalMs, deadline.remainingMs()), clock, signal);
    if (options.maxIntervalMs !== undefined) intervalMs = Math.min(intervalMs * 2, options.maxIntervalMs);
  }
}
