// The Concourse protocol: the only module that touches process.*. Reads the request from stdin, routes it to a
// command, writes exactly one JSON document to stdout, sends every log line to stderr, maps errors to exit codes.
import { formatWithOptions } from 'node:util';
import { writeResult } from './stdout-guard.js';
import { secretFragments } from '../cluster/auth.js';
import type { NetworkEnv } from '../cluster/client.js';
import { AbortedError, BadRequestError, ExitCode, ResourceError } from '../errors.js';
import { Redactor, createLogger, type Logger } from '../log.js';
import { buildEnvKeys, type BuildEnv } from '../request/build-env.js';

export interface ScriptContext {
  /** The JSON of stdin, not yet validated: the entrypoint parses it into its command's request (request/parse.ts). */
  request: unknown;
  /** $1: the destination dir for `in`, the sources dir for `out`; undefined for `check`. */
  dir: string | undefined;
  env: BuildEnv;
  log: Logger;
  signal: AbortSignal;
  processId: number;
  /** Proxies, the Pod's ServiceAccount, the environment of exec credential plugins. */
  network: NetworkEnv;
  /** A secret learnt at run time (a token from an exec plugin): redacted from every line from now on. */
  addSecret: (value: string) => void;
}
type Script = 'check' | 'in' | 'out';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  if (text.trim() === '') throw new BadRequestError('stdin: empty; expected a JSON request such as {"source": {...}}');
  try {
    return JSON.parse(text);
  } catch (error) {
    // Node's message quotes the input, which may hold a secret: keep only where it failed.
    const where = /at position \d+(?: \(line \d+ column \d+\))?/.exec(String((error as Error).message))?.[0];
    throw new BadRequestError(`stdin: not valid JSON${where ? ` ${where}` : ''}`);
  }
}

function pickEnv(): BuildEnv {
  const env: BuildEnv = {};
  for (const key of buildEnvKeys) {
    const value = process.env[key];
    if (value !== undefined && value !== '') env[key] = value;
  }
  return env;
}

/** The first non-empty of the variables, as Go's net/http reads HTTPS_PROXY before https_proxy. */
const firstSet = (...names: string[]) => names.map((n) => process.env[n]).find((v) => v !== undefined && v !== '');

function pickNetworkEnv(): NetworkEnv {
  const pluginEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) pluginEnv[key] = value;
  return {
    proxy: {
      httpProxy: firstSet('HTTP_PROXY', 'http_proxy'),
      httpsProxy: firstSet('HTTPS_PROXY', 'https_proxy'),
      noProxy: firstSet('NO_PROXY', 'no_proxy'),
    },
    inCluster: {
      serviceHost: process.env.KUBERNETES_SERVICE_HOST,
      servicePort: process.env.KUBERNETES_SERVICE_PORT,
      // For tests only: the ServiceAccount mount laid out elsewhere than /var/run/secrets/kubernetes.io/serviceaccount.
      mountRoot: firstSet('KDR_TEST_SERVICEACCOUNT_ROOT'),
    },
    pluginEnv,
  };
}

/** user:password of proxy URLs, in every form a library could print them. */
function proxyCredentials(network: NetworkEnv): string[] {
  const out: string[] = [];
  for (const setting of [network.proxy.httpProxy, network.proxy.httpsProxy]) {
    const userinfo = /^(?:[a-z][a-z0-9+.-]*:\/\/)?([^@/]+)@/i.exec(setting ?? '')?.[1];
    if (!userinfo) continue;
    out.push(userinfo);
    const [user, password] = userinfo.split(':');
    for (const part of [password, user && password ? decodeURIComponent(password) : undefined])
      if (part && part.length >= 4) out.push(part);
  }
  return out;
}

/**
 * One run of a script as Concourse starts it: stdin's request to `command`, its result as the one JSON document on
 * stdout, every log line (and stray console output) redacted on stderr, and an exit code for every error and signal.
 */
export function runConcourseProtocol(script: Script, command: (ctx: ScriptContext) => Promise<unknown>): void {
  const redactor = new Redactor();
  const stderrLine = (line: string) => void process.stderr.write(line.endsWith('\n') ? line : line + '\n');
  const log = createLogger(stderrLine, redactor);
  // Libraries that log do so through the redactor too.
  const consoleLine = (...args: unknown[]) =>
    stderrLine(redactor.redact(formatWithOptions({ colors: false }, ...args)));
  for (const method of ['log', 'info', 'debug', 'warn', 'error', 'trace'] as const) console[method] = consoleLine;

  const abort = new AbortController();
  let exiting = false;
  const finish = (code: number) => {
    exiting = true;
    process.exit(code);
  };
  const fail = (error: unknown) => {
    if (exiting) return;
    exiting = true;
    const line =
      error instanceof ResourceError
        ? `error: ${error.message}`
        : `internal error: ${error instanceof Error ? error.message : String(error)}`;
    const code = error instanceof ResourceError ? error.exitCode : ExitCode.internal;
    // Exit once the line is written: a pipe takes large writes asynchronously, and exit would cut them.
    process.stderr.write(redactor.redact(line) + '\n', () => process.exit(code));
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      abort.abort(new AbortedError(`aborted by ${signal}`));
      // Concourse waits a little and then kills: make sure we are gone well within 2 seconds, whatever is in flight.
      setTimeout(() => fail(new AbortedError(`aborted by ${signal}`)), 1500).unref();
    });
  }
  process.on('unhandledRejection', fail);
  process.on('uncaughtException', fail);

  void (async () => {
    const text = await readStdin();
    const request = parseJson(text);
    // Known before validation, so that even an invalid request cannot echo a credential.
    const source = (request as { source?: Record<string, unknown> } | null)?.source;
    if (source && typeof source === 'object') redactor.add(secretFragments(source));
    const dir = process.argv[2];
    if (script !== 'check' && (dir === undefined || dir === '')) {
      throw new BadRequestError(
        `usage: ${script} <${script === 'in' ? 'destination' : 'sources'} directory> (Concourse passes it as $1)`,
      );
    }
    const network = pickNetworkEnv();
    redactor.add(proxyCredentials(network));
    const addSecret = (value: string) => redactor.add([value]);
    const result = await command({
      request,
      dir: script === 'check' ? undefined : dir,
      env: pickEnv(),
      log,
      signal: abort.signal,
      processId: process.pid,
      network,
      addSecret,
    });
    await writeResult(redactor.redact(JSON.stringify(result)));
    finish(ExitCode.ok);
  })().catch(fail);
}
