// The shape of bench/results.json (npm run bench) and bench/check-start.json (npm run bench:check): what the
// measuring code writes and the report reads, so that a renamed key is a type error, not a crash after a long run.

export interface Stats {
  n: number;
  median: number;
  min: number;
  max: number;
}

export type ScriptName = 'check' | 'in' | 'out';

/** One audit event of a bench identity, as kept in results.json (the fields the report reads). */
export interface AuditRecord {
  verb: string;
  requestURI: string;
  objectRef?: { resource?: string; apiGroup?: string; subresource?: string; name?: string; namespace?: string };
  userAgent?: string;
  code?: number;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
}

export interface Machine {
  nproc: number;
  cpu: string;
  memGb: number;
  node: string;
  kubectl: string;
  /** The test cluster's Kubernetes version (older results.json files lack it). */
  server?: string;
  kernel: string;
  git: string;
  loadStart: string;
  loadEnd?: string;
}

// ---- 2. put

export interface OurPut {
  ns: string;
  user: string;
  ms: number;
  peakRssKb?: number;
  /** Deployment ADDED → Available with all replicas (the bench's watch). */
  clusterMs: number;
  completeMs: number;
  startToCreated: number;
  availableToExit: number;
  overheadMs: number;
  disrupted: boolean;
}

export interface KubectlPut {
  ns: string;
  applyUser: string;
  rolloutUser: string;
  applyMs: number;
  rolloutMs: number;
  ms: number;
  clusterMs: number;
  completeMs: number;
  overheadMs: number;
  peakRssKb?: number;
  disrupted: boolean;
}

/** A no-op re-put: the same release again (ours: `out`; the kubectl way: apply of the same file + rollout status). */
export interface OurReput {
  user: string;
  ms: number;
  peakRssKb?: number;
  disrupted: boolean;
}

export interface KubectlReput {
  applyUser: string;
  rolloutUser: string;
  applyMs: number;
  rolloutMs: number;
  ms: number;
  disrupted: boolean;
}

export interface PutRep {
  ours: OurPut;
  /** The same put with NODE_COMPILE_CACHE filled the way the Dockerfile fills it (what the image ships). */
  oursCompileCache: OurPut;
  in: { user: string; ms: number; peakRssKb?: number };
  again: OurReput;
  againCompileCache: OurReput;
  theirs: KubectlPut;
  theirsAgain: KubectlReput;
}

export interface PutResults {
  reps: PutRep[];
  checkNamespace: string;
  manifests: string;
}

// ---- 1. check (npm run bench)

export interface CheckResults {
  rounds: number;
  excluded: number;
  stats: Record<string, Stats>;
  raw: Record<string, number[]>;
  /** Probe bundle sizes (bytes), by the dependency bundled alone. */
  probes: Record<string, number>;
  checkOutput: unknown;
  peakRssKb: number;
  users: { check: string; kubectlGet: string; checkCc: string; lean: string };
}

// ---- 3. failure detection and recovery

export interface FailRun {
  ns: string;
  user: string;
  code: number | null;
  ms: number;
  peakRssKb?: number;
  firstReason?: string;
  detectMs?: number;
  fromBackOffMs?: number;
  error?: string;
  disrupted: boolean;
}

export interface RecoveryRun {
  ns: string;
  user: string;
  code: number | null;
  ms: number;
  completeToExitMs?: number;
  disrupted: boolean;
}

export interface KubectlFailRun {
  ns: string;
  code: number | null;
  ms: number;
  firstReason?: string;
  detectMs?: number;
  error?: string;
  disrupted: boolean;
  users: { apply: string; rollout: string };
}

// ---- 4. scale

export interface ScalePhase {
  userPrefix: string;
  wallMs: number;
  perReleaseMs: number;
  putMs: Stats;
  peakRssKb?: number;
  disruptedPuts: number;
  load1: number;
}

export interface ScaleRun {
  mode: string;
  limit: number;
  n: number;
  ns: string;
  deploy: ScalePhase;
  teardown: ScalePhase;
}

export interface ScaleSkipped {
  mode: string;
  limit: number;
  n: number;
  skipped: string;
}

export type ScaleRow = ScaleRun | ScaleSkipped;
export const scaleRan = (row: ScaleRow): row is ScaleRun => !('skipped' in row);

// ---- 5. sizes

export interface ImageSize {
  tool: string;
  name: string;
  bytes?: number;
  created?: string;
  baseName?: string;
  baseBytes?: number;
}

export interface Sizes {
  bundles: Record<ScriptName, number>;
  /** assets/lib/NAME.cjs, the side modules (absent in runs before they existed). */
  sideModules?: Record<string, number>;
  checkTop: { path: string; bytes: number }[];
  byPackage: [string, number][];
  image?: ImageSize;
}

// ---- 6. release lifecycle

export interface PruneRep {
  ours: {
    ns: string;
    user: string;
    ms: number;
    peakRssKb?: number;
    pruned?: string;
    gone: boolean;
    disrupted: boolean;
  };
  theirs: {
    ns: string;
    selector: string;
    applyUser: string;
    rolloutUser: string;
    applyMs: number;
    rolloutMs: number;
    ms: number;
    gone: boolean;
    pruneLines: string[];
    disrupted: boolean;
  };
}

export interface RollbackRep {
  ours: {
    ns: string;
    user: string;
    code: number | null;
    ms: number;
    peakRssKb?: number;
    rolledBack?: string;
    imageAfter: string;
    detectToExitMs?: number;
    disrupted: boolean;
  };
  theirs: {
    ns: string;
    users: Record<string, string>;
    ms: number;
    stepsMs: Record<string, number>;
    failMessage?: string;
    imageAfter: string;
    disrupted: boolean;
  };
}

export interface WorkloadsRep {
  ours: { ns: string; user: string; ms: number; peakRssKb?: number; disrupted: boolean };
  theirs: {
    ns: string;
    users: Record<string, string>;
    ms: number;
    stepsMs: Record<string, number>;
    disrupted: boolean;
  };
}

export interface SweepResult {
  n: number;
  app: string;
  setupUser: string;
  ours: {
    user: string;
    ms: number;
    peakRssKb?: number;
    swept: number;
    all: boolean;
    namespacesLeft: number;
    disrupted: boolean;
  };
  theirs: { user: string; ms: number; namespaces: number; disrupted: boolean };
}

// ---- the whole run

export interface BenchResults {
  runId: string;
  started: string;
  bundleHashes: Record<ScriptName, string>;
  machine: Machine;
  put: PutResults;
  check?: CheckResults;
  failOurs?: FailRun[];
  recovery?: RecoveryRun[];
  failKubectl?: KubectlFailRun;
  scale?: ScaleRow[];
  prune?: PruneRep[];
  rollback?: RollbackRep[];
  workloads?: WorkloadsRep[];
  sweep?: SweepResult;
  sizes: Sizes;
  benchMs: number;
  /** kube-apiserver restarts seen, [from, to] in seconds into the run. */
  disruptions: [number, number][];
  /** Every audit event of the run's identities, by user name. */
  audit: Record<string, AuditRecord[]>;
  cleanup: { namespaces: number; allGone: boolean };
  totalMs: number;
}

/** A full run (no BENCH_ONLY): every section measured; what RESULTS.md is written from. */
export type FullBenchResults = BenchResults &
  Required<Pick<BenchResults, 'check' | 'failOurs' | 'failKubectl' | 'scale'>>;

export function isFullRun(results: BenchResults): results is FullBenchResults {
  return Boolean(results.check && results.failOurs && results.failKubectl && results.scale);
}

// ---- npm run bench:check

export type VariantKind = 'ours' | 'baseline' | 'probe';

export interface CheckStartResults {
  runId: string;
  date: string;
  excluded: number;
  machine: { nproc: number; node: string; kubectl: string; server?: string; git: string; load: string };
  kinds: Record<string, VariantKind>;
  stats: Record<string, Stats>;
  raw: Record<string, number[]>;
  /** Per round: variant → ms (ratios of runs made seconds apart). */
  rounds: Record<string, number>[];
  outputs: Record<string, string>;
  peakRssKb: { check: number; checkRuns: (number | undefined)[]; kubectl?: number };
  bundles: Record<ScriptName, { bytes: number; packages: [string, number][] }>;
  /** assets/lib/NAME.cjs: the packages a script requires on first use only (absent in runs before they existed). */
  sideModules?: Record<string, { bytes: number; packages: [string, number][] }>;
}
