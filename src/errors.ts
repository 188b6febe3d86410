// Every failure a user can meet maps to one class with its own exit code (documented in README.md, "Exit codes").
export const ExitCode = {
  ok: 0,
  internal: 1,
  badRequest: 2,
  cluster: 3,
  apiRejected: 4,
  rolloutFailed: 5,
  timedOut: 6,
  aborted: 7,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export abstract class ResourceError extends Error {
  abstract readonly exitCode: ExitCodeValue;
}

/** The request or the configuration is wrong; found before any cluster call. */
export class BadRequestError extends ResourceError {
  readonly exitCode = ExitCode.badRequest;
}

/** The cluster cannot be reached or will not authenticate us (refused, DNS, TLS, 401, 5xx after retries). */
export class ClusterConnectionError extends ResourceError {
  readonly exitCode = ExitCode.cluster;
}

/** The API server answered and refused (403 RBAC, 404 where something must exist, 409, 422, ownership conflicts). */
export class ApiRejectedError extends ResourceError {
  readonly exitCode = ExitCode.apiRejected;
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The release was applied but did not become ready (ImagePullBackOff, CrashLoopBackOff, ProgressDeadlineExceeded…). */
export class RolloutFailedError extends ResourceError {
  readonly exitCode = ExitCode.rolloutFailed;
}

/** `timeout` ran out while waiting for a rollout or a teardown. */
export class TimedOutError extends ResourceError {
  readonly exitCode = ExitCode.timedOut;
}

/** Concourse aborted the build (SIGTERM/SIGINT). */
export class AbortedError extends ResourceError {
  readonly exitCode = ExitCode.aborted;
}
