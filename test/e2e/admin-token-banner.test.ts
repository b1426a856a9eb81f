// `npm start`'s banner: the admin token in full only when this start generated it, masked
// otherwise (it came from ADMIN_TOKEN or from DATA_DIR/admin-token), and a weak ADMIN_TOKEN
// refuses to start with one line saying how to make one.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENV_TOKEN = 'banner-test-admin-token-0123456789-xyz';

interface Start {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs bin/local.ts until its banner's last line (then SIGTERM), or until it exits by itself. */
function startOnce(env: Record<string, string>): Promise<Start> {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'ERROR',
    ...env,
  };
  delete childEnv.NODE_OPTIONS;
  delete childEnv.ADMIN_TOKEN;
  if (env.ADMIN_TOKEN) childEnv.ADMIN_TOKEN = env.ADMIN_TOKEN;
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bin', 'local.ts')], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    if (/ {2}try {10}.*\n/.test(stdout)) child.kill('SIGTERM');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((done) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    }),
  );
}

const line = (stdout: string, label: string) =>
  stdout.split('\n').find((l) => l.startsWith(`  ${label}`)) ?? '';

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'admin-token-banner-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the admin token in the banner', () => {
  it('is shown in full when just generated, and masked at the next start from the same file', async () => {
    const dataDir = join(work, 'generated');

    const first = await startOnce({ DATA_DIR: dataDir });
    const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
    const second = await startOnce({ DATA_DIR: dataDir });

    expect(line(first.stdout, 'admin token')).toContain(`${token} (generated now`);
    expect(line(first.stdout, 'try')).toContain(`Bearer ${token}`);
    expect(second.stdout).toContain('listening');
    expect(second.stdout).not.toContain(token);
    expect(line(second.stdout, 'admin token')).toContain(`${token.slice(0, 4)}… (from `);
    expect(line(second.stdout, 'try')).toMatch(/Bearer \$\(cat .*generated\/admin-token\)/);
  });

  it('is masked when it came from ADMIN_TOKEN', async () => {
    const run = await startOnce({ DATA_DIR: join(work, 'from-env'), ADMIN_TOKEN: ENV_TOKEN });

    expect(run.stdout).toContain('listening');
    expect(run.stdout).not.toContain(ENV_TOKEN);
    expect(line(run.stdout, 'admin token')).toContain('bann… (from ADMIN_TOKEN)');
    expect(line(run.stdout, 'try')).toContain('Bearer $ADMIN_TOKEN');
  });

  it('refuses a weak ADMIN_TOKEN in one line naming it and how to make one', async () => {
    const run = await startOnce({ DATA_DIR: join(work, 'weak'), ADMIN_TOKEN: 'x'.repeat(16) });

    expect(run.code).toBe(2);
    expect(run.stdout).not.toContain('listening');
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/ADMIN_TOKEN.*at least 32 characters.*openssl rand -base64 32/),
    ]);
  });
});
