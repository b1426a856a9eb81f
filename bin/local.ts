// `npm start`: the embedded runtime, the same handlers as in AWS on one machine with an embedded
// database instead of SSM, and SMTP relays or an outbox folder instead of SES.
import { relative, resolve } from 'node:path';
import { DataDirectoryBusyError } from '../functions/adapters/local/data-directory-lock.js';
import { SecretsKeyError, secretKeySettingsOf } from '../functions/adapters/local/secret-box.js';
import { NewerSchemaError } from '../functions/adapters/local/sqlite-database.js';
import { maskAdminToken, WeakAdminTokenError } from '../functions/shared/admin-token.js';
import { createLogger } from '../functions/shared/logger.js';
import { LocalEnvSchema } from '../local-runtime/env.js';
import { type LocalRuntime, startLocalRuntime } from '../local-runtime/server.js';
import { CliError, type CommandSpec, EXIT, parseCliEnv, parseCommandLine, runCli } from '../ops/cli.js';

const SPEC: CommandSpec = {
  command: 'npm start',
  summary:
    'the embedded runtime: the admin API and page, the event bus, notify and the daily notice on one machine',
  usage: ['', '-- --help'],
  options: {},
  environment: [
    ['PORT', 'the port to listen on (default 3000; 0 picks a free one)'],
    ['HOST', 'the address to listen on (default 127.0.0.1)'],
    ['DATA_DIR', 'configuration, delivery log, admin token and outbox (default ./.data)'],
    [
      'ADMIN_TOKEN',
      'the admin token (at least 32 characters, e.g. openssl rand -base64 32; default: generated into DATA_DIR/admin-token)',
    ],
    [
      'SECRETS_KEY',
      'encrypts the secrets in notifier.db: 32 bytes, hex or base64 (default: DATA_DIR/secrets.key)',
    ],
    [
      'SECRETS_KEY_PREVIOUS',
      'while rotating: the old SECRETS_KEY, read only; values are rewritten with the new',
    ],
    [
      'SECRETS_KEY_FILE',
      'the key file used without SECRETS_KEY (default DATA_DIR/secrets.key, created 0600)',
    ],
    ['MAIL_OUTBOX', 'true: every message goes to DATA_DIR/outbox instead of the relays (dry run)'],
    ['SES_ENDPOINT', 'a local SES (aws-ses-v2-local) for transport "ses"; else SES mail goes to the outbox'],
    [
      'PUBLIC_BASE_URL',
      'where browsers reach the runtime (OAuth redirect URI; default http://localhost:<PORT>)',
    ],
    ['DAILY_NOTICE_TIME', 'HH:MM (UTC) of the daily notice, or off (default 08:00)'],
    ['EVENT_CONSUMERS', 'notify invocations at once on the event queue'],
    ['EVENT_LEASE_SECONDS', "notify's claim on an event while it works on it"],
    ['CREDENTIAL_WARNING_DAYS', "days ahead of a credential's expiry that warnings start (1-90, default 14)"],
    ['LOG_LEVEL', 'DEBUG, INFO, WARN or ERROR (default INFO)'],
  ],
  examples: ['npm start', 'PORT=3100 DATA_DIR=/var/lib/notifier npm start', 'MAIL_OUTBOX=true npm start'],
  exitCodes: [
    [EXIT.ok, 'stopped by SIGINT or SIGTERM'],
    [EXIT.failed, 'could not start: the port is in use, the data directory is unusable or busy, ...'],
    [EXIT.usage, 'a wrong command line or environment'],
  ],
};

// What the file system answers when the data directory cannot be made or written.
const DATA_DIR_CODES = new Set([
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOTDIR',
  'EEXIST',
  'ENOSPC',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
  'SQLITE_PERM',
]);

/** A refusal to start as one line the user can act on, or undefined for an unexpected error. */
function startError(
  error: unknown,
  env: { PORT: number; HOST: string; DATA_DIR: string },
): CliError | undefined {
  if (
    error instanceof DataDirectoryBusyError ||
    error instanceof NewerSchemaError ||
    error instanceof SecretsKeyError ||
    error instanceof WeakAdminTokenError
  ) {
    return new CliError(error.message);
  }
  const err = error as NodeJS.ErrnoException;
  if (err?.code === 'EADDRINUSE') {
    return new CliError(`port ${env.PORT} is in use: set PORT to a free port or stop the other process`);
  }
  if (err?.code === 'EADDRNOTAVAIL') {
    return new CliError(`${env.HOST} is not an address of this machine: set HOST (default 127.0.0.1)`);
  }
  if (err?.code === 'EACCES' && err.syscall === 'listen') {
    return new CliError(`port ${env.PORT} needs privileges to listen on: set PORT to 1024 or above`);
  }
  if (err?.code && DATA_DIR_CODES.has(err.code)) {
    const dir = resolve(env.DATA_DIR);
    if (err.code === 'ENOTDIR' || err.code === 'EEXIST') {
      return new CliError(
        `the data directory ${dir} cannot be created (${err.code}: a file is in its place): set DATA_DIR to a directory this user can write`,
      );
    }
    return new CliError(
      `the data directory ${dir} is not writable (${err.code}${err.path && err.path !== dir ? ` on ${err.path}` : ''}): set DATA_DIR to a directory this user can write, or fix its permissions`,
    );
  }
  return undefined;
}

await runCli(SPEC, async () => {
  parseCommandLine(SPEC);
  const env = parseCliEnv(LocalEnvSchema);
  const runtime = await startLocalRuntime({
    port: env.PORT,
    host: env.HOST,
    dataDir: env.DATA_DIR,
    ...(env.ADMIN_TOKEN ? { adminToken: env.ADMIN_TOKEN } : {}),
    mailOutbox: env.MAIL_OUTBOX,
    secrets: secretKeySettingsOf(env),
    ...(env.SES_ENDPOINT ? { sesEndpoint: env.SES_ENDPOINT } : {}),
    awsRegion: env.AWS_REGION,
    dailyNoticeTime: env.DAILY_NOTICE_TIME,
    eventLeaseSeconds: env.EVENT_LEASE_SECONDS,
    ...(env.CREDENTIAL_WARNING_DAYS !== undefined
      ? { credentialWarningDays: env.CREDENTIAL_WARNING_DAYS }
      : {}),
    eventConsumers: env.EVENT_CONSUMERS,
    ...(env.PUBLIC_BASE_URL ? { publicBaseUrl: env.PUBLIC_BASE_URL } : {}),
    log: createLogger({ logLevel: env.LOG_LEVEL }),
  }).catch((error: unknown) => {
    throw startError(error, env) ?? error;
  });
  printBanner(runtime, env.ADMIN_TOKEN !== undefined);

  const stop = async () => {
    await runtime.close();
    process.exit(EXIT.ok);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // The server keeps the process alive until a signal stops it.
  return undefined;
});

function printBanner(runtime: LocalRuntime, tokenFromEnv: boolean): void {
  const shown = (path: string) => {
    const rel = relative(process.cwd(), path) || '.';
    return rel.startsWith('..') ? path : rel;
  };
  // In full only when just generated (the user has to learn it); otherwise the user has it, and
  // a terminal, a scrollback or a service log is no place to leak it again.
  const token = runtime.adminTokenGenerated ? runtime.adminToken : maskAdminToken(runtime.adminToken);
  const tokenFile = `${shown(runtime.dataDir)}/admin-token`;
  const bearer = runtime.adminTokenGenerated
    ? runtime.adminToken
    : tokenFromEnv
      ? '$ADMIN_TOKEN'
      : `$(cat ${tokenFile})`;
  const tokenSource = tokenFromEnv
    ? 'from ADMIN_TOKEN'
    : runtime.adminTokenGenerated
      ? `generated now, stored in ${tokenFile}`
      : `from ${tokenFile}`;
  process.stdout.write(
    [
      '',
      'appliance-notifier embedded runtime',
      `  listening    ${runtime.url}`,
      `  data         ${shown(runtime.dataDir)} (configuration and delivery log in notifier.db, mail in outbox/)`,
      '  mail         SMTP relays as each cluster configures them;',
      `               ${runtime.sesDestination}`,
      `  admin token  ${token} (${tokenSource})`,
      `  admin page   ${runtime.url}/admin/ (sign in with the admin token)`,
      `  oauth        redirect URI ${runtime.publicBaseUrl}/login/smtp-verification/ (PUBLIC_BASE_URL)`,
      `  events       POST ${runtime.url}/events (PutEvents entries), or: npm run emit -- <condition-id>`,
      `  daily notice ${runtime.nextDailyNotice ? `next at ${runtime.nextDailyNotice.toISOString()} (DAILY_NOTICE_TIME, UTC)` : 'off'}; now: POST ${runtime.url}/daily-notice/run`,
      `  try          curl -H "Authorization: Bearer ${bearer}" ${runtime.url}/clusters/default/email-config`,
      '',
      '',
    ].join('\n'),
  );
}
