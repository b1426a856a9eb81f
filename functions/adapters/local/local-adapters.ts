// The embedded runtime's adapters: files under the data directory instead of SSM and DynamoDB,
// and an outbox folder (or a local SES endpoint) instead of Amazon SES. The only place outside
// the Lambdas that constructs stores, SDK clients and mailers.
import { resolve } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Adapters } from '../../composition.js';
import type { Clock } from '../../core/ports.js';
import { createLogger } from '../../shared/logger.js';
import { TransportMailerFactory, type TransportMailerFactoryOptions } from '../mailer-factory.js';
import { FetchTokenClient } from '../oauth-token-client.js';
import { FileConfigStore } from './file-config-store.js';
import { FileLedger } from './file-ledger.js';
import { FileOAuthStateStore } from './oauth-file-state-store.js';
import { OutboxMailer } from './outbox-mailer.js';

export interface LocalAdapterOptions {
  /** Holds config/, ledger/, oauth-state/ and outbox/. */
  dataDir: string;
  /** Send every message to the outbox, whatever the configuration says (dry run). */
  mailOutbox?: boolean;
  /** A local SES endpoint (e.g. aws-ses-v2-local) for `transport: "ses"`; otherwise the outbox. */
  sesEndpoint?: string;
  awsRegion?: string;
  smtpTimeouts?: TransportMailerFactoryOptions['smtpTimeouts'];
  clock?: Clock;
  log?: Logger;
}

export interface LocalAdapters extends Adapters {
  ledger: FileLedger;
  outboxDir: string;
  /** One line: where `transport: "ses"` mail goes. */
  sesDestination: string;
  close(): Promise<void>;
}

export async function localAdapters(options: LocalAdapterOptions): Promise<LocalAdapters> {
  const dataDir = resolve(options.dataDir);
  const outboxDir = resolve(dataDir, 'outbox');
  const clock = options.clock ?? (() => new Date());
  const outbox = () => new OutboxMailer({ directory: outboxDir });
  const { sesEndpoint } = options;
  const ses = sesEndpoint
    ? async () => {
        const [{ SESClient }, { SesMailer }] = await Promise.all([
          import('@aws-sdk/client-ses'),
          import('../aws/ses-mailer.js'),
        ]);
        return new SesMailer({
          client: new SESClient({
            endpoint: sesEndpoint,
            region: options.awsRegion ?? 'eu-west-1',
            // A local SES emulator checks no signature; real credentials are never needed here.
            credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          }),
        });
      }
    : outbox;
  const ledger = await FileLedger.open({ directory: resolve(dataDir, 'ledger'), clock });
  return {
    log: options.log ?? createLogger(),
    clock,
    store: new FileConfigStore({ directory: resolve(dataDir, 'config') }),
    ledger,
    oauthStates: new FileOAuthStateStore({
      directory: resolve(dataDir, 'oauth-state'),
      clock: () => clock().getTime(),
    }),
    tokenClient: new FetchTokenClient(),
    mailers: (oauthTokens) =>
      new TransportMailerFactory({
        ses,
        oauthTokens,
        ...(options.mailOutbox ? { outbox } : {}),
        ...(options.smtpTimeouts ? { smtpTimeouts: options.smtpTimeouts } : {}),
      }),
    outboxDir,
    sesDestination: options.mailOutbox
      ? `every message goes to the outbox ${outboxDir} (MAIL_OUTBOX)`
      : sesEndpoint
        ? `transport "ses" sends to the SES endpoint ${sesEndpoint}`
        : `transport "ses" writes .eml files to ${outboxDir} (set SES_ENDPOINT for a local SES)`,
    close: () => ledger.close(),
  };
}
