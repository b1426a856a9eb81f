// An embedded runtime with a relay for one test file, and calls to its HTTP API as its admin
// (its bearer token).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../functions/shared/logger.js';
import {
  type LocalRuntime,
  type LocalRuntimeOptions,
  startLocalRuntime,
} from '../../local-runtime/server.js';
import { type SmtpTestServer, startSmtpTestServer } from './smtp-test-server.js';

export interface RuntimeApiResponse {
  status: number;
  /** The parsed JSON answer (undefined for an empty one, e.g. 204). */
  // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever JSON the route answers
  body: any;
}

/** `runtime` is read on each call: the runtime is started in `beforeAll`, after the helper is made. */
export function runtimeApi(runtime: () => Pick<LocalRuntime, 'url' | 'adminToken'>) {
  return async (method: string, path: string, body?: unknown): Promise<RuntimeApiResponse> => {
    const { url, adminToken } = runtime();
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
}

/**
 * No automatic redelivery (one attempt, no daily-notice retries) and short SMTP timeouts: each
 * test sees what one delivery did (the retry delays are real time).
 */
export const ONE_ATTEMPT = {
  retryDelaysMs: [],
  eventDeliveryAttempts: 1,
  smtpTimeouts: { connectionMs: 2000, greetingMs: 2000, socketMs: 5000 },
} as const satisfies Omit<LocalRuntimeOptions, 'dataDir'>;

export interface RuntimeWithRelay {
  runtime: LocalRuntime;
  /** A plain SMTP relay on loopback, for the clusters' configurations. */
  relay: SmtpTestServer;
  close(): Promise<void>;
}

/**
 * An embedded runtime for one test file: any free port on loopback, a fresh data directory
 * (`prefix` names it), no daily schedule and no log unless `options` say otherwise, and a relay.
 */
export async function startRuntimeWithRelay(
  prefix: string,
  options: Omit<LocalRuntimeOptions, 'dataDir'> = {},
): Promise<RuntimeWithRelay> {
  const dataDir = await mkdtemp(join(tmpdir(), prefix));
  const relay = await startSmtpTestServer({ mode: 'plain' });
  const runtime = await startLocalRuntime({
    port: 0,
    dataDir,
    dailyNoticeTime: 'off',
    log: createLogger({ logLevel: 'SILENT' }),
    ...options,
  });
  return {
    runtime,
    relay,
    close: async () => {
      await runtime.close();
      await relay.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
