import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sesLocalModule from 'aws-ses-v2-local';

/** What aws-ses-v2-local keeps for each message it accepted (the parts tests look at). */
export interface SesLocalEmail {
  messageId: string;
  from: string;
  replyTo: string[];
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { text?: string; html?: string };
  /** Seconds since the epoch. */
  at: number;
}

export interface SesLocal {
  /** For `new SESClient({ endpoint })`. */
  endpoint: string;
  /** Messages accepted since the start or the last `clear()`, oldest first. */
  emails(): Promise<SesLocalEmail[]>;
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** Region and dummy credentials for clients pointed at the emulator; it checks neither. */
export const SES_LOCAL_CLIENT_CONFIG = {
  region: 'eu-west-1',
  credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' },
} as const;

type StartServer = (config?: Partial<{ host: string; port: number }>) => Promise<Server>;

// The package is CommonJS with `exports.default`; depending on the loader, the default import
// is either the function or the whole `exports` object.
function startFunction(): StartServer {
  const candidate: unknown = sesLocalModule;
  if (typeof candidate === 'function') return candidate as StartServer;
  const inner = (candidate as { default?: unknown }).default;
  if (typeof inner === 'function') return inner as StartServer;
  throw new Error('aws-ses-v2-local does not export its server function as expected');
}

/**
 * Starts aws-ses-v2-local in this process on a free loopback port. Its store is module state,
 * shared by every server in the process: call `clear()` between tests that count messages.
 */
export async function startSesLocal(): Promise<SesLocal> {
  const server = await startFunction()({ host: '127.0.0.1', port: 0 });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;

  return {
    endpoint,
    async emails() {
      const response = await fetch(`${endpoint}/store`);
      if (!response.ok) throw new Error(`aws-ses-v2-local GET /store answered ${response.status}`);
      const store = (await response.json()) as { emails: SesLocalEmail[] };
      return store.emails;
    },
    async clear() {
      const response = await fetch(`${endpoint}/clear-store`, { method: 'POST' });
      if (!response.ok) throw new Error(`aws-ses-v2-local POST /clear-store answered ${response.status}`);
    },
    close() {
      // The SDK keeps connections alive; without this, close() waits for them to time out.
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
