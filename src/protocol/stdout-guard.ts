// Imported first by every entrypoint: from here on, anything that writes to stdout (console.log in a library,
// a stray process.stdout.write) lands on stderr. Only `writeResult` reaches the real stdout, once.
const realWrite = process.stdout.write.bind(process.stdout);
const toStderr = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
process.stdout.write = toStderr;
for (const method of ['log', 'info', 'debug', 'trace', 'dir', 'table'] as const) {
  // eslint-disable-next-line no-console
  console[method] = (...args: unknown[]) => console.error(...args);
}

let written = false;
export function writeResult(json: string): Promise<void> {
  if (written) throw new Error('a result was already written to stdout');
  written = true;
  return new Promise((resolve) => realWrite(json + '\n', () => resolve()));
}
