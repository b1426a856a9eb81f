// Runs a worker script of test/support (sqlite-queue-worker.ts by default, or
// sqlite-ledger-worker.ts) in a child process (node + tsx) and collects its JSON lines.
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { WorkerLine } from './sqlite-queue-worker.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SUPPORT = join(ROOT, 'test', 'support');

export interface WorkerProcess<Line = WorkerLine> {
  child: ChildProcess;
  lines: Line[];
  /** Calls `listener` with every line from now on (and returns a function that stops it). */
  onLine(listener: (line: Line) => void): () => void;
  /** Resolves with the first line (already seen or to come) that `predicate` accepts. */
  waitFor(predicate: (line: Line) => boolean, timeoutMs?: number): Promise<Line>;
  /** Resolves when the process has exited and its output is read, with its code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

export function startWorker<Line = WorkerLine>(
  mode: string,
  dataDir: string,
  clockStartMs: number,
  script = 'sqlite-queue-worker.ts',
): WorkerProcess<Line> {
  const env = { ...process.env };
  // Jest's --experimental-vm-modules is not for the child.
  delete env.NODE_OPTIONS;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(SUPPORT, script), mode, dataDir, String(clockStartMs)],
    {
      cwd: ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const lines: Line[] = [];
  const listeners = new Set<(line: Line) => void>();
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errors += chunk.toString('utf8');
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
    const line = JSON.parse(text) as Line;
    lines.push(line);
    for (const listener of listeners) listener(line);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const onLine = (listener: (line: Line) => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  };
  return {
    child,
    lines,
    onLine,
    exited,
    stderr: () => errors,
    waitFor(predicate, timeoutMs = 15_000) {
      const seen = lines.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          stop();
          reject(new Error(`The worker did not report in ${timeoutMs} ms; stderr: ${errors}`));
        }, timeoutMs);
        const stop = onLine((line) => {
          if (!predicate(line)) return;
          clearTimeout(timer);
          stop();
          resolve(line);
        });
        void exited.then(() => {
          clearTimeout(timer);
          stop();
          reject(new Error(`The worker exited before reporting; stderr: ${errors}`));
        });
      });
    },
  };
}
