// `npm start`: the embedded runtime, the same handlers as in AWS on one machine with an embedded
// database instead of SSM, and SMTP relays or an outbox folder instead of SES.
import { relative } from 'node:path';
import { DataDirectoryBusyError } from '../functions/adapters/local/data-directory-lock.js';
import { NewerSchemaError } from '../functions/adapters/local/sqlite-database.js';
import { parseEnv } from '../functions/shared/env.js';
import { createLogger } from '../functions/shared/logger.js';
import { LocalEnvSchema } from '../local-runtime/env.js';
import { startLocalRuntime } from '../local-runtime/server.js';

const env = parseEnv(LocalEnvSchema, process.env, 'npm start');
const runtime = await startLocalRuntime({
  port: env.PORT,
  host: env.HOST,
  dataDir: env.DATA_DIR,
  ...(env.ADMIN_TOKEN ? { adminToken: env.ADMIN_TOKEN } : {}),
  mailOutbox: env.MAIL_OUTBOX,
  ...(env.SES_ENDPOINT ? { sesEndpoint: env.SES_ENDPOINT } : {}),
  awsRegion: env.AWS_REGION,
  dailyNoticeTime: env.DAILY_NOTICE_TIME,
  eventLeaseSeconds: env.EVENT_LEASE_SECONDS,
  eventConsumers: env.EVENT_CONSUMERS,
  ...(env.PUBLIC_BASE_URL ? { publicBaseUrl: env.PUBLIC_BASE_URL } : {}),
  log: createLogger({ logLevel: env.LOG_LEVEL }),
}).catch((error: unknown) => {
  // A refusal the user can act on is one line, not a stack trace.
  if (error instanceof DataDirectoryBusyError || error instanceof NewerSchemaError) {
    process.stderr.write(`npm start: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
});

const shown = (path: string) => {
  const rel = relative(process.cwd(), path) || '.';
  return rel.startsWith('..') ? path : rel;
};
const tokenSource = env.ADMIN_TOKEN
  ? 'from ADMIN_TOKEN'
  : runtime.adminTokenGenerated
    ? `generated now, stored in ${shown(runtime.dataDir)}/admin-token`
    : `from ${shown(runtime.dataDir)}/admin-token`;
process.stdout.write(
  [
    '',
    'appliance-notifier embedded runtime',
    `  listening    ${runtime.url}`,
    `  data         ${shown(runtime.dataDir)} (configuration and delivery log in notifier.db, mail in outbox/)`,
    '  mail         SMTP relays as each cluster configures them;',
    `               ${runtime.sesDestination}`,
    `  admin token  ${runtime.adminToken} (${tokenSource})`,
    `  admin page   ${runtime.url}/admin/ (sign in with the admin token)`,
    `  oauth        redirect URI ${runtime.publicBaseUrl}/login/smtp-verification/ (PUBLIC_BASE_URL)`,
    `  events       POST ${runtime.url}/events (PutEvents entries), or: npm run emit -- <condition-id>`,
    `  daily notice ${runtime.nextDailyNotice ? `next at ${runtime.nextDailyNotice.toISOString()} (DAILY_NOTICE_TIME, UTC)` : 'off'}; now: POST ${runtime.url}/daily-notice/run`,
    `  try          curl -H "Authorization: Bearer ${runtime.adminToken}" ${runtime.url}/clusters/default/email-config`,
    '',
    '',
  ].join('\n'),
);

const stop = async () => {
  await runtime.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
