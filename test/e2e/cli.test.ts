// The command-line tools as an operator runs them (bin/*.ts in child processes): each explains
// itself with --help, a refusal is one line with the cause and the fix (never a stack trace), emit
// sends to the `default` cluster with the current time and prints the outcome, redrive counts
// what each replay got, and the runtime logs every failed delivery with its reason.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RuntimeProcess, startRuntimeProcess } from '../support/runtime-process.js';
import { type SmtpTestServer, startSmtpTestServer, unusedPort } from '../support/smtp-test-server.js';

const ROOT = resolve(import.meta.dirname, '../..');
const COMMANDS = ['local', 'emit', 'redrive', 'smoke', 'config'] as const;
const STACK_LINE = /^\s+at /m;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runBin(script: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  // Jest's --experimental-vm-modules is not for the child.
  delete childEnv.NODE_OPTIONS;
  delete childEnv.DEBUG;
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bin', `${script}.ts`), ...args],
      { cwd: ROOT, env: childEnv, timeout: 90_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** What a refusal must look like: one line on stderr, no stack. */
function expectOneLine(run: Run, pattern: RegExp): void {
  expect(run.stderr).not.toMatch(STACK_LINE);
  expect(run.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(pattern)]);
}

/** JSON log lines of the runtime (stderr: warn and error). */
function logLines(runtime: RuntimeProcess): Record<string, unknown>[] {
  return runtime
    .stderr()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** `28 Nov 2026, 03:08:42 UTC` (the emails' time format) as a date. */
function emailTimes(text: string): Date[] {
  return [...text.matchAll(/(\d{1,2} \w{3,4} \d{4}), (\d\d:\d\d:\d\d) UTC/g)].map(
    (m) => new Date(`${m[1]?.replace('Sept', 'Sep')} ${m[2]} UTC`),
  );
}

let work: string;
let dataDir: string;
let relay: SmtpTestServer;
let runtime: RuntimeProcess;
let cliEnv: Record<string, string>;

async function putConfig(cluster: string, smtp: { host: string; port: number }, waitSeconds: number) {
  const token = (await import('node:fs')).readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
  const response = await fetch(`${runtime.url}/clusters/${cluster}/email-config`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      sender: 'appliance@example.com',
      smtp: { host: smtp.host, port: smtp.port, encryption: 'none' },
      adminContacts: 'ops@example.com',
      grouping: { waitSeconds },
      language: 'en',
    }),
  });
  if (response.status !== 200 && response.status !== 201)
    throw new Error(`PUT ${cluster}: ${response.status} ${await response.text()}`);
}

beforeAll(async () => {
  delete process.env.ADMIN_TOKEN;
  work = await mkdtemp(join(tmpdir(), 'cli-'));
  dataDir = join(work, 'data');
  relay = await startSmtpTestServer({ mode: 'plain' });
  runtime = await startRuntimeProcess({ DATA_DIR: dataDir, DAILY_NOTICE_TIME: 'off' });
  cliEnv = { APPLIANCE_NOTIFIER_URL: runtime.url, DATA_DIR: dataDir };
  await putConfig('default', relay, 0);
  await putConfig('grouped', relay, 60);
  await putConfig('unreachable', { host: '127.0.0.1', port: await unusedPort() }, 0);
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  await relay?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('--help', () => {
  it.each(COMMANDS)('bin/%s.ts --help: usage, options, examples and exit codes, exit 0', async (command) => {
    const run = await runBin(command, ['--help']);

    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    for (const section of ['Usage:', 'Options:', 'Examples:', 'Exit codes:']) {
      expect(run.stdout).toContain(`\n${section}\n`);
    }
    expect(run.stdout).toContain('--help');
  });
});

describe('refusals: one line with the cause and the fix', () => {
  it('an unknown option and a missing value are usage errors (exit 2)', async () => {
    const [unknown, missing] = await Promise.all([
      runBin('emit', ['promotion-pending', '--nope'], cliEnv),
      runBin('redrive', ['--local', '--cluster'], cliEnv),
    ]);

    expect(unknown.code).toBe(2);
    expectOneLine(unknown, /^npm run emit: unknown option --nope \(see npm run emit -- --help\)$/);
    expect(missing.code).toBe(2);
    expectOneLine(missing, /^npm run redrive: --cluster needs a value: --cluster <id> /);
  });

  it('npm start on a port in use says so and exits 1', async () => {
    const holder: Server = createServer();
    await new Promise<void>((done) => holder.listen(0, '127.0.0.1', done));
    const { port } = holder.address() as { port: number };
    try {
      const run = await runBin('local', [], { PORT: String(port), DATA_DIR: join(work, 'busy-port') });

      expect(run.code).toBe(1);
      expectOneLine(
        run,
        new RegExp(`^npm start: port ${port} is in use: set PORT to a free port or stop the other process$`),
      );
    } finally {
      await new Promise<void>((done) => holder.close(() => done()));
    }
  });

  it('npm start with a DATA_DIR that cannot be written says which and how to fix it', async () => {
    const file = join(work, 'a-file');
    await writeFile(file, 'not a directory');

    const run = await runBin('local', [], { PORT: '0', DATA_DIR: join(file, 'data') });

    expect(run.code).toBe(1);
    expectOneLine(
      run,
      /^npm start: the data directory .*a-file\/data cannot be created \(ENOTDIR.*set DATA_DIR/,
    );
  });

  it('emit and redrive --local with no runtime listening say how to start it', async () => {
    const url = `http://127.0.0.1:${await unusedPort()}`;
    const env = { APPLIANCE_NOTIFIER_URL: url, ADMIN_TOKEN: 'a-token-of-sixteen-chars' };

    const [emit, redrive] = await Promise.all([
      runBin('emit', ['promotion-pending'], env),
      runBin('redrive', ['--local'], env),
    ]);

    for (const [run, command] of [
      [emit, 'npm run emit'],
      [redrive, 'npm run redrive'],
    ] as const) {
      expect(run.code).toBe(1);
      expectOneLine(run, new RegExp(`^${command}: no runtime answers at ${url} .*: start it with npm start`));
    }
  });

  it('config import of a backup that does not exist names the file', async () => {
    const run = await runBin('config', ['import', '--local', '--file', join(work, 'missing.json')], cliEnv);

    expect(run.code).toBe(1);
    expectOneLine(
      run,
      /^npm run config: cannot read .*missing\.json \(ENOENT\): give --file an existing backup$/,
    );
  });
});

describe('npm run emit against the running runtime', () => {
  it('sends to the default cluster with the current time, and prints where it went and that it was sent', async () => {
    const before = Date.now();

    const run = await runBin('emit', ['backup-promoted'], cliEnv);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [where, outcome] = run.stdout.trimEnd().split('\n');
    expect(where).toMatch(
      new RegExp(
        `^event [0-9a-f-]{36} \\(backup-promoted, cluster default\\) sent to the embedded runtime at ${runtime.url}$`,
      ),
    );
    expect(outcome).toBe('sent to ops@example.com');
    const [message] = await relay.waitForMessages(1);
    expect(message?.headers['x-appliance-notifier-condition']).toBe('backup-promoted');
    // Every time the email names is the sample's, moved to now (whole seconds), not days ago.
    const times = emailTimes(message?.text ?? '');
    expect(times.length).toBeGreaterThan(0);
    for (const time of times) {
      expect(time.getTime()).toBeGreaterThanOrEqual(before - 60_000);
      expect(time.getTime()).toBeLessThanOrEqual(Date.now() + 1_000);
    }
    expect(message?.text).not.toMatch(/days? .* before it was observed/);
  }, 60_000);

  it('says when the group email goes out for a grouped event', async () => {
    const run = await runBin('emit', ['data-sync-stale', '--cluster', 'grouped', '--wait', '10'], cliEnv);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\(data-sync-stale, cluster grouped\) sent to the embedded runtime/);
    const due = /^grouped: the group email goes out at (\d\d):(\d\d):(\d\d) UTC/m.exec(run.stdout);
    expect(due).not.toBeNull();
  }, 60_000);

  it('prints a failure, exits 1, and the runtime logs it with its reason', async () => {
    const run = await runBin('emit', ['promotion-pending', '--cluster', 'nowhere'], cliEnv);

    expect(run.code).toBe(1);
    const eventId = /^event ([0-9a-f-]{36}) /.exec(run.stdout)?.[1];
    expect(run.stdout).toContain('failed: cluster "nowhere" has no email configuration');
    const logged = logLines(runtime).find((line) => line.eventId === eventId);
    expect(logged).toMatchObject({
      level: 'ERROR',
      clusterId: 'nowhere',
      condition: 'promotion-pending',
      stage: 'config',
      reason: expect.stringContaining('has no email configuration'),
    });
  }, 60_000);

  it('logs a relay failure with its stage and reason, and emit says it is retried', async () => {
    const run = await runBin('emit', ['version-mismatch', '--cluster', 'unreachable', '--wait', '0'], cliEnv);
    const eventId = /^event ([0-9a-f-]{36}) /.exec(run.stdout)?.[1];

    // --wait 0 reads the log once; notify may not have answered yet, then it says so.
    expect(run.stdout).toMatch(/failed for now, the runtime retries it: .*connect|not in the delivery log/);
    for (let i = 0; i < 100 && !logLines(runtime).some((l) => l.eventId === eventId); i++) {
      await new Promise((done) => setTimeout(done, 100));
    }
    expect(logLines(runtime).find((line) => line.eventId === eventId)).toMatchObject({
      level: 'WARN',
      message: 'Temporary delivery failure; the event will be retried',
      clusterId: 'unreachable',
      stage: expect.any(String),
      reason: expect.stringMatching(/failed/),
    });
  }, 60_000);
});

describe('npm run emit --bus (PutEvents against a stand-in endpoint on loopback)', () => {
  it('prints the event id on success, and the entry error (exit 1) when the bus refuses it', async () => {
    const requests: { target: string; body: { Entries: { EventBusName: string; Detail: string }[] } }[] = [];
    let answer: unknown = {
      FailedEntryCount: 0,
      Entries: [{ EventId: '11111111-2222-3333-4444-555555555555' }],
    };
    const endpoint = createHttpServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        requests.push({
          target: String(request.headers['x-amz-target']),
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        });
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((done) => endpoint.listen(0, '127.0.0.1', done));
    const { port } = endpoint.address() as { port: number };
    const env = {
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'example-secret',
      AWS_ENDPOINT_URL_EVENTBRIDGE: `http://127.0.0.1:${port}`,
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    try {
      const ok = await runBin('emit', ['promotion-pending', '--bus', 'appliance-notifier'], env);

      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain(
        'event 11111111-2222-3333-4444-555555555555 (promotion-pending, cluster default) put on bus appliance-notifier',
      );
      expect(requests[0]?.target).toBe('AWSEvents.PutEvents');
      expect(requests[0]?.body.Entries[0]?.EventBusName).toBe('appliance-notifier');
      expect(JSON.parse(requests[0]?.body.Entries[0]?.Detail ?? '{}').clusterId).toBe('default');

      answer = {
        FailedEntryCount: 1,
        Entries: [
          { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' },
        ],
      };
      const refused = await runBin('emit', ['promotion-pending', '--bus', 'appliance-notifier'], env);

      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expectOneLine(
        refused,
        /^npm run emit: bus appliance-notifier refused the promotion-pending event for cluster default: NotAuthorizedForSourceException Not authorized for the source\. \(FailedEntryCount 1\)$/,
      );
    } finally {
      await new Promise<void>((done) => endpoint.close(() => done()));
    }
  }, 60_000);
});

describe('npm run redrive --local', () => {
  it('counts each replay by its own outcome: failed again, then delivered once the cause is fixed', async () => {
    const second = await runBin('emit', ['data-sync-stale', '--cluster', 'nowhere'], cliEnv);
    expect(second.code).toBe(1);

    const again = await runBin('redrive', ['--local', '--cluster', 'nowhere'], cliEnv);

    expect(again.code).toBe(1);
    const lines = again.stdout.trimEnd().split('\n');
    expect(lines.slice(0, -1)).toEqual([
      expect.stringMatching(/^[0-9a-f-]{36}: failed again: cluster "nowhere" has no email configuration/),
      expect.stringMatching(/^[0-9a-f-]{36}: failed again: cluster "nowhere" has no email configuration/),
    ]);
    expect(lines.at(-1)).toBe('2 replayed: 0 delivered, 2 failed again, 0 still queued');

    await putConfig('nowhere', relay, 0);
    relay.reset();
    const fixed = await runBin('redrive', ['--local', '--cluster', 'nowhere'], cliEnv);

    expect(fixed.stdout.trimEnd().split('\n').at(-1)).toBe(
      '2 replayed: 2 delivered, 0 failed again, 0 still queued',
    );
    expect(fixed.code).toBe(0);
    expect(await relay.waitForMessages(2)).toHaveLength(2);
  }, 120_000);
});

describe('GET / on the runtime', () => {
  it('redirects to the admin page', async () => {
    const response = await fetch(`${runtime.url}/`, { redirect: 'manual' });

    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/admin/');
  });
});
