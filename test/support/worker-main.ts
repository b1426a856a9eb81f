// What the child-process workers of the multi-process tests share: one JSON line per report on
// stdout (worker-process.ts reads them), and running `main` only when the file is the entry point.

/** Writes one JSON line to stdout; resolves once it is flushed. */
export function reportLine(line: unknown): Promise<void> {
  return new Promise((resolve) => process.stdout.write(`${JSON.stringify(line)}\n`, () => resolve()));
}

/** Runs `main` when `moduleUrl` is the process's entry point; a failure exits 2 with its stack. */
export function runAsMain(moduleUrl: string, main: () => Promise<void>): void {
  if (!process.argv[1] || !moduleUrl.endsWith(process.argv[1].replace(/\\/g, '/'))) return;
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(2);
  });
}
