// What every command-line tool (bin/*.ts) shares: strict argument parsing with node's parseArgs,
// `--help` (usage, options, environment, examples, exit codes), and errors as one line with the
// cause and the fix. A stack trace is printed only with DEBUG=1.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { z } from 'zod';
import { formatIssues, issuesFromZod } from '../functions/kernel/field-issues.js';

/** Exit codes every command uses. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A failure the user can act on: its message is the one line printed (cause and fix). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}

/** A wrong command line: exit code 2, with a pointer to `--help`. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

export interface CliOption {
  type: 'string' | 'boolean';
  short?: string;
  default?: string | boolean;
  /** What the value is, for the help text: `--cluster <id>`. */
  value?: string;
  description: string;
}

export interface CommandSpec {
  /** How the user runs it: `npm run emit`. */
  command: string;
  summary: string;
  /** Usage lines without the command, e.g. `<condition-id> [--cluster <id>]`. */
  usage: string[];
  options: Record<string, CliOption>;
  /** Positional arguments, described in the help text. */
  positionals?: [name: string, description: string][];
  environment?: [name: string, description: string][];
  examples: string[];
  exitCodes: [code: number, meaning: string][];
}

/** `npm run emit -- ` (npm passes what follows `--` to the script); `npm start` takes none. */
const invocation = (command: string) => (command.startsWith('npm run ') ? `${command} --` : command);

const HELP_OPTION: CliOption = { type: 'boolean', short: 'h', description: 'Show this help and exit.' };

function table(rows: [string, string][]): string[] {
  const width = Math.min(Math.max(...rows.map(([left]) => left.length)), 30);
  return rows.map(([left, right]) =>
    left.length > width ? `  ${left}\n  ${' '.repeat(width)}  ${right}` : `  ${left.padEnd(width)}  ${right}`,
  );
}

export function helpText(spec: CommandSpec): string {
  const options = { ...spec.options, help: HELP_OPTION };
  const optionRows = Object.entries(options).map(([name, option]): [string, string] => {
    const flag = `${option.short ? `-${option.short}, ` : ''}--${name}${option.type === 'string' ? ` <${option.value ?? 'value'}>` : ''}`;
    const fallback =
      option.default !== undefined && option.type === 'string' ? ` (default ${option.default})` : '';
    return [flag, `${option.description}${fallback}`];
  });
  const sections = [
    `${spec.command}: ${spec.summary}`,
    '',
    'Usage:',
    ...spec.usage.map((line) => `  ${invocation(spec.command)} ${line}`.trimEnd()),
    ...(spec.positionals?.length ? ['', 'Arguments:', ...table(spec.positionals)] : []),
    '',
    'Options:',
    ...table(optionRows),
    ...(spec.environment?.length ? ['', 'Environment:', ...table(spec.environment)] : []),
    '',
    'Examples:',
    ...spec.examples.map((line) => `  ${line}`),
    '',
    'Exit codes:',
    ...table(spec.exitCodes.map(([code, meaning]): [string, string] => [String(code), meaning])),
  ];
  return `${sections.join('\n')}\n`;
}

type ParsedValues = Record<string, string | boolean | undefined>;

/** The option named in one of parseArgs' messages (`Unknown option '--x'`, `Option '-c, --cluster <value>'`). */
function optionIn(message: string): string {
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? '';
  return /--[\w-]+/.exec(quoted)?.[0] ?? (quoted.split(' ')[0] || 'an option');
}

/** A parseArgs refusal in the terms of this command's options. */
function usageErrorOf(error: unknown, spec: CommandSpec): UsageError {
  const err = error as { code?: string; message?: string };
  const message = err.message ?? String(error);
  const option = optionIn(message);
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option ${option}`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(message)) return new UsageError(`${option} takes no value`);
      return new UsageError(
        `${option} needs a value: ${option} <${spec.options[option.slice(2)]?.value ?? 'value'}>`,
      );
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`unexpected argument ${/'([^']+)'/.exec(message)?.[1] ?? ''}`.trimEnd());
    default:
      return new UsageError(message);
  }
}

/**
 * Parses the command line strictly (an unknown option, a missing value or an unexpected
 * argument is a UsageError). `--help` prints the help text and exits 0.
 */
export function parseCommandLine<V extends ParsedValues = ParsedValues>(
  spec: CommandSpec,
  args: string[] = process.argv.slice(2),
): { values: V; positionals: string[] } {
  const options = Object.fromEntries(
    Object.entries({ ...spec.options, help: HELP_OPTION }).map(([name, option]) => [
      name,
      {
        type: option.type,
        ...(option.short ? { short: option.short } : {}),
        ...(option.default !== undefined ? { default: option.default } : {}),
      },
    ]),
  ) as NonNullable<ParseArgsConfig['options']>;
  let parsed: { values: ParsedValues; positionals: string[] };
  try {
    parsed = parseArgs({
      args,
      options,
      strict: true,
      allowPositionals: (spec.positionals?.length ?? 0) > 0,
    }) as { values: ParsedValues; positionals: string[] };
  } catch (error) {
    throw usageErrorOf(error, spec);
  }
  if (parsed.values.help) {
    process.stdout.write(helpText(spec));
    process.exit(EXIT.ok);
  }
  return { values: parsed.values as V, positionals: parsed.positionals };
}

/** The environment through its zod schema; a bad variable is a UsageError naming each problem. */
export function parseCliEnv<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.output<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new UsageError(`invalid environment: ${formatIssues(issuesFromZod(result.error))}`);
  }
  return result.data;
}

/** A number of seconds from an option: a UsageError when it is not one. */
export function secondsOption(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const seconds = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(seconds) || seconds < 0) {
    throw new UsageError(`--${name} is a number of seconds, not "${raw}"`);
  }
  return seconds;
}

/** The network error beneath fetch's bare `fetch failed`: `ECONNREFUSED`, and its message. */
export function networkCause(error: unknown): { code?: string; message: string } {
  // Duck-typed: fetch's errors may come from another realm, so no instanceof.
  const err = error as { name?: unknown; message?: unknown; cause?: unknown } | undefined;
  const cause = err?.cause as { message?: unknown; code?: unknown } | undefined;
  if (typeof cause?.message === 'string') {
    return { ...(typeof cause.code === 'string' ? { code: cause.code } : {}), message: cause.message };
  }
  return { message: typeof err?.message === 'string' ? err.message : String(error) };
}

/**
 * fetch against the embedded runtime: no answer at all is one CliError that says how to start
 * it (or where to point the command instead).
 */
export async function fetchRuntime(base: string, path: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(`${base}${path}`, { signal: AbortSignal.timeout(60_000), ...init });
  } catch (error) {
    const cause = networkCause(error);
    if (cause.code === 'ECONNREFUSED' || cause.code === 'ENOTFOUND' || cause.code === 'EHOSTUNREACH') {
      throw new CliError(
        `no runtime answers at ${base} (${cause.code}): start it with npm start, or point --url / APPLIANCE_NOTIFIER_URL at the one that runs`,
      );
    }
    throw new CliError(`${init.method ?? 'GET'} ${base}${path}: no answer: ${cause.message}`);
  }
}

/** One line for an error `runCli` did not expect: its message, without the stack. */
function unexpected(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (/Region is missing/i.test(error.message)) return 'no AWS region: set AWS_REGION';
  if (error.name === 'CredentialsProviderError') return `no AWS credentials: ${error.message}`;
  return `${error.message}${error.name && error.name !== 'Error' ? ` (${error.name})` : ''}`;
}

/**
 * Runs a command's main function: a CliError is its one line and exit code; anything else is one
 * line and exit 1, with the stack only under DEBUG=1. `main` answers its exit code (default 0).
 */
export async function runCli(
  spec: Pick<CommandSpec, 'command'>,
  main: () => Promise<number | undefined>,
): Promise<void> {
  const debug = /^(1|true|yes)$/i.test(process.env.DEBUG ?? '');
  try {
    const code = await main();
    if (code !== undefined) process.exitCode = code;
  } catch (error) {
    if (error instanceof CliError) {
      const help = error instanceof UsageError ? ` (see ${invocation(spec.command)} --help)` : '';
      process.stderr.write(`${spec.command}: ${error.message}${help}\n`);
      if (debug && error.stack) process.stderr.write(`${error.stack}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(
      `${spec.command}: ${unexpected(error)}${debug ? '' : ' (run with DEBUG=1 for the stack)'}\n`,
    );
    if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exitCode = EXIT.failed;
  }
}
