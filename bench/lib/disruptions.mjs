// Watches for kube-apiserver restarts while the bench runs (other sessions run disruptive tests that kill and restart
// it: test/disruptive/). Polls the pid file and the process's start time; a step that overlaps a gap is flagged.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterDir } from './cluster.mjs';

const pidFile = join(clusterDir, 'run', 'kube-apiserver.pid');

function identity() {
  try {
    const pid = readFileSync(pidFile, 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const startTicks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return `${pid}@${startTicks}`;
  } catch {
    return 'down';
  }
}

export class DisruptionMonitor {
  constructor(intervalMs = 200) {
    this.current = identity();
    this.gaps = []; // [fromMs, toMs] in performance.now() time: from the last good poll to the first poll after the change
    let lastGood = performance.now();
    let down = this.current === 'down' ? lastGood : undefined;
    this.timer = setInterval(() => {
      const now = performance.now();
      const id = identity();
      if (id === 'down') {
        down ??= lastGood;
      } else if (id !== this.current || down !== undefined) {
        this.gaps.push([down ?? lastGood, now]);
        this.current = id;
        down = undefined;
        // a freshly started apiserver needs a moment before it serves: count the next 3 s as disrupted too
        this.gaps.at(-1)[1] = now + 3000;
      }
      if (id !== 'down') lastGood = now;
    }, intervalMs);
    this.timer.unref();
  }

  overlaps(from, to) {
    return this.gaps.some(([a, b]) => a < to && from < b);
  }

  stop() {
    clearInterval(this.timer);
  }
}
