// Watches for kube-apiserver restarts while the bench runs (other sessions run disruptive tests that kill and restart
// it: test/disruptive/). Polls the pid file and the process's start time; a step that overlaps a gap is flagged.
import { readFileSync } from 'node:fs';
import { apiserverPidFile } from '../../test/support/apiserver.js';

function identity(): string {
  try {
    const pid = readFileSync(apiserverPidFile, 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const startTicks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return `${pid}@${startTicks}`;
  } catch {
    return 'down';
  }
}

export class DisruptionMonitor {
  private current = identity();
  /** [fromMs, toMs] in performance.now() time: from the last good poll to the first poll after the change. */
  readonly gaps: [number, number][] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 200) {
    let lastGood = performance.now();
    let down = this.current === 'down' ? lastGood : undefined;
    this.timer = setInterval(() => {
      const now = performance.now();
      const id = identity();
      if (id === 'down') {
        down ??= lastGood;
      } else if (id !== this.current || down !== undefined) {
        // a freshly started apiserver needs a moment before it serves: count the next 3 s as disrupted too
        this.gaps.push([down ?? lastGood, now + 3000]);
        this.current = id;
        down = undefined;
      }
      if (id !== 'down') lastGood = now;
    }, intervalMs);
    this.timer.unref();
  }

  overlaps(from: number, to: number): boolean {
    return this.gaps.some(([a, b]) => a < to && from < b);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
