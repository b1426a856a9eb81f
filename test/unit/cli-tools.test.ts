// The pure parts of the command-line tools: the sample's times moved to now, the outcome lines,
// the replay counts, and strict argument parsing with its one-line usage errors.
import { describe, expect, it } from '@jest/globals';
import { CATALOG, CONDITION_IDS } from '../../events/catalog.js';
import { loadSample } from '../../events/samples.js';
import { CliError, type CommandSpec, helpText, parseCommandLine, runCli, UsageError } from '../../ops/cli.js';
import { describeOutcome, sampleEntry, stampedDetail } from '../../ops/emit.js';
import { summarizeReplays } from '../../ops/redrive.js';

const NOW = new Date('2027-03-14T09:26:53.589Z');
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function timesOf(value: unknown, path = ''): [string, number][] {
  if (typeof value === 'string') return ISO.test(value) ? [[path, Date.parse(value)]] : [];
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => timesOf(item, `${path}.${key}`));
  }
  return [];
}

describe('sampleEntry', () => {
  it.each(CONDITION_IDS)(
    '%s: newest time is now (to the second), spacing kept, cluster default, valid',
    (id) => {
      const before = timesOf(loadSample(id).detail);

      const entry = sampleEntry(id, undefined, NOW);

      const detail = JSON.parse(entry.Detail) as Record<string, unknown>;
      const after = timesOf(detail);
      expect(after.map(([path]) => path)).toEqual(before.map(([path]) => path));
      expect(Math.max(...after.map(([, t]) => t))).toBe(Date.parse('2027-03-14T09:26:53Z'));
      const shift = (after[0]?.[1] ?? 0) - (before[0]?.[1] ?? 0);
      expect(after.map(([, t]) => t - shift)).toEqual(before.map(([, t]) => t));
      expect(detail.clusterId).toBe('default');
      expect(entry.Source).toBe('appliance.failover.default');
      expect(CATALOG[id].detailSchema.safeParse(detail).success).toBe(true);
    },
  );

  it("takes the cluster given, with its publisher's source, and leaves a detail without times as it is", () => {
    const entry = sampleEntry('promotion-pending', 'eu-prod-1', NOW);
    expect(JSON.parse(entry.Detail).clusterId).toBe('eu-prod-1');
    expect(entry.Source).toBe('appliance.failover.eu-prod-1');
    const plain = { a: 'x', b: [1, 'not 2026-11-28'] };
    expect(stampedDetail(plain, NOW)).toBe(plain);
  });
});

describe('describeOutcome', () => {
  it('says when a grouped event goes out, and counts failures and rejections as failed', () => {
    const grouped = describeOutcome({
      eventId: 'e',
      outcome: 'grouped',
      reason: 'waiting in the group email g1 of cluster c, due at 2027-03-14T09:27:23.000Z (1 event so far)',
    });
    expect(grouped).toEqual({
      line: expect.stringMatching(/^grouped: the group email goes out at 09:27:23 UTC \(waiting/),
      failed: false,
    });
    expect(describeOutcome({ eventId: 'e', outcome: 'sent', recipients: ['a@x', 'b@x'] })).toEqual({
      line: 'sent to a@x, b@x',
      failed: false,
    });
    expect(describeOutcome({ eventId: 'e', outcome: 'failed', transient: true, reason: 'r' }).failed).toBe(
      true,
    );
    expect(describeOutcome({ eventId: 'e', outcome: 'rejected', reason: 'r' }).failed).toBe(true);
    expect(describeOutcome({ eventId: 'e', outcome: 'folded', reason: 'r' }).failed).toBe(false);
  });
});

describe('summarizeReplays', () => {
  it('counts each replay by its own outcome, whatever its ok flag claims', () => {
    const summary = summarizeReplays([
      { eventId: 'a', ok: true, outcome: 'sent', result: { outcome: 'sent' } },
      { eventId: 'b', ok: true, result: { outcome: 'failed', reason: 'again' } },
      { eventId: 'c', ok: false, outcome: 'failed', error: 'connect failed' },
      { eventId: 'd', ok: false, outcome: 'queued', error: 'still queued: waiting in the group email' },
      {
        eventId: 'e',
        ok: true,
        outcome: 'duplicate',
        result: { outcome: 'duplicate', reason: 'already sent' },
      },
    ]);

    expect(summary).toMatchObject({ delivered: 2, failed: 2, queued: 1 });
    expect(summary.total).toBe('5 replayed: 2 delivered, 2 failed again, 1 still queued');
    expect(summary.lines).toEqual([
      'a: sent',
      'b: failed again: again',
      'c: failed again: connect failed',
      'd: queued: still queued: waiting in the group email',
      'e: duplicate: already sent',
    ]);
  });
});

describe('parseCommandLine', () => {
  const spec: CommandSpec = {
    command: 'npm run demo',
    summary: 'a demo',
    usage: ['<thing> [--cluster <id>]'],
    positionals: [['<thing>', 'a thing']],
    options: {
      cluster: { type: 'string', value: 'id', default: 'default', description: 'The cluster.' },
      local: { type: 'boolean', description: 'Locally.' },
    },
    examples: ['npm run demo -- x'],
    exitCodes: [[0, 'ok']],
  };
  const refusal = (args: string[]) => {
    try {
      parseCommandLine(spec, args);
    } catch (error) {
      return error;
    }
    throw new Error('accepted');
  };

  it('parses options, defaults and positionals', () => {
    expect(parseCommandLine(spec, ['x', '--local'])).toEqual({
      values: { cluster: 'default', local: true },
      positionals: ['x'],
    });
  });

  it('refuses an unknown option, a missing value and a value for a flag with one line each', () => {
    expect(refusal(['--nope'])).toEqual(new UsageError('unknown option --nope'));
    expect(refusal(['x', '--cluster'])).toEqual(new UsageError('--cluster needs a value: --cluster <id>'));
    expect(refusal(['--local=yes'])).toEqual(new UsageError('--local takes no value'));
    expect((refusal(['--nope']) as UsageError).exitCode).toBe(2);
  });

  it('writes help with every section and option', () => {
    const text = helpText(spec);
    expect(text).toMatch(/^npm run demo: a demo\n\nUsage:\n {2}npm run demo -- <thing> \[--cluster <id>\]\n/);
    expect(text).toContain('--cluster <id>  The cluster. (default default)');
    expect(text).toContain('-h, --help');
    expect(text).toContain('\nExit codes:\n  0');
  });
});

describe('runCli', () => {
  const capture = async (debug: string | undefined, main: () => Promise<number | undefined>) => {
    const written: string[] = [];
    const write = process.stderr.write;
    const savedDebug = process.env.DEBUG;
    const savedCode = process.exitCode;
    if (debug === undefined) delete process.env.DEBUG;
    else process.env.DEBUG = debug;
    process.stderr.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      await runCli({ command: 'npm run demo' }, main);
      return { stderr: written.join(''), code: process.exitCode };
    } finally {
      process.stderr.write = write;
      process.exitCode = savedCode;
      if (savedDebug === undefined) delete process.env.DEBUG;
      else process.env.DEBUG = savedDebug;
    }
  };

  it('a CliError is its one line and exit code; a usage error points to --help', async () => {
    expect(
      await capture(undefined, async () => Promise.reject(new CliError('port 3000 is in use: set PORT'))),
    ).toEqual({
      stderr: 'npm run demo: port 3000 is in use: set PORT\n',
      code: 1,
    });
    expect(
      await capture(undefined, async () => Promise.reject(new UsageError('unknown option --x'))),
    ).toEqual({
      stderr: 'npm run demo: unknown option --x (see npm run demo -- --help)\n',
      code: 2,
    });
  });

  it('an unexpected error is one line with the DEBUG hint, and its stack only with DEBUG=1', async () => {
    const quiet = await capture(undefined, async () => Promise.reject(new TypeError('boom')));
    expect(quiet).toEqual({
      stderr: 'npm run demo: boom (TypeError) (run with DEBUG=1 for the stack)\n',
      code: 1,
    });

    const loud = await capture('1', async () => Promise.reject(new TypeError('boom')));
    expect(loud.code).toBe(1);
    expect(loud.stderr.split('\n')[0]).toBe('npm run demo: boom (TypeError)');
    expect(loud.stderr).toMatch(/^\s+at /m);
  });

  it("answers main's exit code", async () => {
    expect(await capture(undefined, async () => 1)).toEqual({ stderr: '', code: 1 });
  });
});
