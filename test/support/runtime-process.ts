// The embedded runtime as `npm start` runs it (bin/local.ts), in a child process: the crash test
// SIGKILLs it on a data directory that outlives it, the storm bench reads its CPU and memory
// from /proc.
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface RuntimeProcess {
  child: ChildProcess;
  pid: number;
  /** Where it listens (PORT=0: a free port, read from its start-up banner). */
  url: string;
  /** Resolves when the process has exited, with its code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The tail of its stderr. */
  stderr(): string;
  /** SIGTERM (a graceful stop), then SIGKILL after 10 s. */
  stop(): Promise<void>;
}

export async function startRuntimeProcess(
  env: Record<string, string>,
  startTimeoutMs = 30_000,
): Promise<RuntimeProcess> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env };
  // Jest's --experimental-vm-modules is not for the child.
  delete childEnv.NODE_OPTIONS;
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bin', 'local.ts')], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    // Keep the tail only: LOG_LEVEL=ERROR still logs every failed delivery.
    errors = (errors + chunk.toString('utf8')).slice(-20_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the runtime did not start within ${startTimeoutMs} ms; stderr: ${errors}`));
    }, startTimeoutMs);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const match = /listening\s+(http:\/\/\S+)/.exec(line);
      if (!match?.[1]) return;
      clearTimeout(timer);
      resolve(match[1]);
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the runtime exited (${code ?? signal}) before it listened; stderr: ${errors}`));
    });
  });
  return {
    child,
    pid: child.pid as number,
    url,
    exited,
    stderr: () => errors,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
