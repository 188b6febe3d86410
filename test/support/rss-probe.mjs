// Loaded into a compiled script with NODE_OPTIONS=--import=… by the files fuzz suite: at exit, the process's peak
// resident set size (KiB) goes to the file named by KDR_RSS_FILE, so every case's memory is measured, not guessed.
import { writeFileSync } from 'node:fs';

const file = process.env.KDR_RSS_FILE;
if (file) {
  process.on('exit', () => {
    try {
      writeFileSync(file, String(process.resourceUsage().maxRSS));
    } catch {
      // The case then fails for want of a measurement.
    }
  });
}
