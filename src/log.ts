// Progress lines for the build log. Every line passes through the redactor, so a secret cannot reach stderr even when
// it hides inside an error message from a library.
export interface Logger {
  info(line: string): void;
  warn(line: string): void;
}

export class Redactor {
  private fragments: string[] = [];
  add(fragments: Iterable<string>): void {
    this.fragments = [...new Set([...this.fragments, ...fragments])].sort((a, b) => b.length - a.length);
  }
  redact(text: string): string {
    let out = text;
    for (const fragment of this.fragments) if (out.includes(fragment)) out = out.split(fragment).join('[redacted]');
    return out;
  }
}

export function createLogger(write: (line: string) => void, redactor: Redactor): Logger {
  return {
    info: (line) => write(redactor.redact(line)),
    warn: (line) => write(redactor.redact(`warning: ${line}`)),
  };
}

/** A logger that keeps lines in memory (tests, and commands called without a process). */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (l) => lines.push(l), warn: (l) => lines.push(`warning: ${l}`) };
}
