// Fuzzing with fast-check (fixed seed, bounded runs): arbitrary configuration bodies, paths,
// PutEvents bodies and event envelopes, with control, bidi and zero-width characters, deep
// nesting and huge strings. Properties: the server never answers 500; an invalid event never
// produces an email; a valid event's email carries no header it did not come from; every
// configuration body is decided (validated) within 50 ms.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { CATALOG, CONDITION_IDS } from '../../events/catalog.js';
import { validateConditionEvent } from '../../events/envelope.js';
import { loadSample } from '../../events/samples.js';
import { createAdminApiHandler } from '../../functions/admin-api/app.js';
import { EmailConfigInputSchema } from '../../functions/core/config/email-config.js';
import type { Mailer, OutgoingMessage } from '../../functions/core/mail/mailer.js';
import { bearerTokenAuthenticator } from '../../functions/shared/auth.js';
import { createLogger } from '../../functions/shared/logger.js';
import { type Handler, invoke } from '../support/api-gateway.js';
import { type RuntimeWithRelay, runtimeApi, startRuntimeWithRelay } from '../support/runtime-api.js';
import { type TestServices, testServices } from '../support/services.js';

const TOKEN = 'fuzz-admin-token-7Hq2Lm9Xv4Rt8Kp3Zw6Nc1Bd5';
const auth = { authorization: `Bearer ${TOKEN}` };
const json = { ...auth, 'content-type': 'application/json' };
/** Fixed: a failure names its seed and path, and the next run finds it again. */
const SEED = 20_261_201;
const CLUSTER = 'fuzz';

let dataDir: string;
let services: TestServices;
let handler: Handler;
const sent: OutgoingMessage[] = [];

/** Strings an attacker or a broken appliance sends. */
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    '\u202e',
    '\u200b',
    '\ufeff',
    '\u2066x\u2069',
    '\r\nBcc: victim@example.com',
    '\nSubject: forged',
    '\u0000',
    '%E0%A4%A',
    '"a@example.com" <b@evil.com>',
    `a${' '.repeat(20_000)}b`,
    '<script>alert(1)</script>',
    `\${jndi:ldap://x}`,
    '../../etc/passwd',
  ),
  fc.string({ maxLength: 8 }).map((text) => text.repeat(5_000)),
);

/** A value nested `depth` arrays deep. */
const deep = fc.integer({ min: 50, max: 2_000 }).map((depth) => {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level++) value = [value];
  return value;
});

const anyValue = fc.oneof(
  nasty,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  deep,
  fc.anything({ maxDepth: 3 }),
);

/** Configuration bodies near the real shape, with any field replaced by anything. */
const configBody = fc.oneof(
  fc.record(
    {
      sender: fc.oneof(nasty, anyValue),
      transport: fc.oneof(fc.constantFrom('smtp', 'ses'), anyValue),
      smtp: fc.oneof(
        fc.record(
          {
            host: fc.oneof(fc.constantFrom('127.0.0.1', '169.254.169.254', 'relay.example.com'), nasty),
            port: fc.oneof(fc.integer({ min: -5, max: 70_000 }), nasty, fc.double()),
            encryption: fc.oneof(fc.constantFrom('tls', 'starttls', 'none'), nasty),
            verifyCertificate: anyValue,
            auth: fc.oneof(
              fc.record(
                {
                  type: fc.oneof(fc.constantFrom('none', 'password', 'oauth2'), nasty),
                  username: nasty,
                  password: nasty,
                  provider: fc.oneof(fc.constantFrom('microsoft', 'google', 'custom'), nasty),
                  clientId: nasty,
                  clientSecret: nasty,
                  tenant: nasty,
                  scopes: fc.oneof(nasty, fc.array(nasty, { maxLength: 4 })),
                  tokenEndpoint: nasty,
                  authorizationEndpoint: nasty,
                },
                { requiredKeys: [] },
              ),
              anyValue,
            ),
            limits: anyValue,
          },
          { requiredKeys: [] },
        ),
        anyValue,
      ),
      adminContacts: fc.oneof(nasty, fc.array(nasty, { maxLength: 5 }), anyValue),
      dailyNotice: anyValue,
      language: fc.oneof(fc.constantFrom('en', 'de'), nasty),
      repeatIntervalMinutes: anyValue,
      grouping: anyValue,
    },
    { requiredKeys: [] },
  ),
  anyValue,
);

/** Event envelopes: a real sample with its fields replaced, or anything at all. */
const envelope = fc.oneof(
  fc
    .record({
      condition: fc.constantFrom(...CONDITION_IDS),
      id: fc.oneof(fc.uuid(), nasty),
      hostname: fc.oneof(fc.constantFrom('pra-primary-01.example.com'), nasty),
      field: fc.constantFrom('detail-type', 'source', 'time', 'clusterId', 'role', 'message', 'none'),
      value: anyValue,
    })
    .map(({ condition, id, hostname, field, value }) => {
      const sample = structuredClone(loadSample(condition)) as unknown as Record<string, unknown> & {
        detail: Record<string, unknown> & { appliance?: Record<string, unknown> };
      };
      sample.id = id;
      sample.time = new Date(Date.UTC(2026, 10, 30, 12)).toISOString();
      sample.detail.clusterId = CLUSTER;
      if (sample.detail.appliance) sample.detail.appliance.hostname = hostname;
      if (field === 'detail-type' || field === 'source' || field === 'time') sample[field] = value;
      else if (field !== 'none') sample.detail[field] = value;
      return sample;
    }),
  anyValue,
);

const recordingMailer: Mailer = {
  send: async (message) => {
    sent.push(message);
    return { messageId: `<${sent.length}@fuzz>`, accepted: message.to, rejected: [], destination: 'fuzz' };
  },
};

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'fuzz-'));
  const log = createLogger({ logLevel: 'ERROR' });
  services = await testServices({
    dataDir,
    log,
    adapters: { mailers: () => ({ forConfig: async () => recordingMailer }) },
  });
  handler = createAdminApiHandler({ services, authenticator: bearerTokenAuthenticator(TOKEN) });
  const saved = await invoke(handler, {
    method: 'PUT',
    path: `/clusters/${CLUSTER}/email-config`,
    headers: json,
    body: JSON.stringify({
      sender: 'Appliance <appliance@example.com>',
      transport: 'ses',
      adminContacts: 'ops@example.com',
      grouping: { waitSeconds: 0 },
      repeatIntervalMinutes: 0,
    }),
  });
  expect(saved.status).toBe(201);
});

afterAll(async () => {
  await services?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('fuzzed inputs', () => {
  it('decides every configuration body within 50 ms, and the API never answers 500 to one', async () => {
    const slowest: number[] = [];
    await fc.assert(
      fc.asyncProperty(configBody, async (body) => {
        const started = performance.now();
        EmailConfigInputSchema.safeParse(body);
        slowest.push(performance.now() - started);
        const answer = await invoke(handler, {
          method: 'PUT',
          path: '/clusters/fuzz-config/email-config',
          headers: json,
          body: JSON.stringify(body),
        });
        expect(answer.status).toBeLessThan(500);
      }),
      { seed: SEED, numRuns: 150 },
    );
    expect(Math.max(...slowest)).toBeLessThan(50);
  });

  it('never answers 500 to a path, whatever its escapes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(nasty, fc.constantFrom('%E0%A4%A', '%', '%%', '%ZZ', '%C0%AF', '..%2F..', '%00')),
        fc.constantFrom('email-config', 'email-config/versions', 'deliveries', 'email-config/test'),
        async (segment, rest) => {
          const answer = await invoke(handler, {
            method: 'GET',
            path: `/clusters/${segment.replace(/[/?#\s]/g, '')}/${rest}`,
            headers: auth,
          });
          expect(answer.status).toBeLessThan(500);
        },
      ),
      { seed: SEED, numRuns: 120 },
    );
  });

  it('emails no invalid event, and no header a valid event did not come from', async () => {
    // The header names a genuine event's email has: what a fuzzed one may have at most.
    const baseline = new Set<string>();
    for (const condition of CONDITION_IDS) {
      sent.length = 0;
      const sample = structuredClone(loadSample(condition)) as unknown as {
        id: string;
        detail: { clusterId: string };
      };
      sample.id = `baseline-${condition}`;
      sample.detail.clusterId = CLUSTER;
      await services.notify.handle(sample);
      for (const message of sent) for (const name of Object.keys(message.headers ?? {})) baseline.add(name);
    }
    expect(baseline.size).toBeGreaterThan(2);

    let emailed = 0;
    await fc.assert(
      fc.asyncProperty(envelope, async (input) => {
        sent.length = 0;
        const valid = validateConditionEvent(input).ok;
        await services.notify.handle(input).catch(() => undefined);
        if (!valid) {
          expect(sent).toEqual([]);
          return;
        }
        emailed += sent.length;
        for (const message of sent) {
          expect(message.subject).not.toMatch(/[\r\n\0]/);
          expect(message.from).not.toMatch(/[\r\n\0]/);
          for (const [name, value] of Object.entries(message.headers ?? {})) {
            expect(baseline.has(name)).toBe(true);
            expect(value).not.toMatch(/[\r\n\0]/);
          }
        }
      }),
      { seed: SEED, numRuns: 150 },
    );
    // The property was not vacuous: some fuzzed events were valid and emailed.
    expect(emailed).toBeGreaterThan(0);
  });

  it('never answers 500 to PutEvents, answers every entry, and emails only the valid events it accepted', async () => {
    const bus: RuntimeWithRelay = await startRuntimeWithRelay('fuzz-bus-', {
      adminToken: TOKEN,
      retryDelaysMs: [],
      eventDeliveryAttempts: 1,
    });
    try {
      const call = runtimeApi(() => bus.runtime);
      const saved = await call('PUT', '/clusters/fuzz-bus/email-config', {
        sender: 'appliance@example.com',
        smtp: { host: bus.relay.host, port: bus.relay.port, encryption: 'none', auth: { type: 'none' } },
        adminContacts: 'ops@example.com',
        grouping: { waitSeconds: 0 },
        repeatIntervalMinutes: 0,
      });
      expect(saved.status).toBe(201);
      /** Entries near a real one (a sample's detail, some field replaced), or anything at all. */
      const entry = fc.oneof(
        fc
          .record({
            condition: fc.constantFrom(...CONDITION_IDS),
            source: fc.oneof(fc.constantFrom('appliance.failover', 'appliance.failover.fuzz-bus'), nasty),
            field: fc.constantFrom('clusterId', 'appliance', 'role', 'none'),
            value: anyValue,
            detailAsText: fc.boolean(),
          })
          .map(({ condition, source, field, value, detailAsText }) => {
            const detail = structuredClone(loadSample(condition).detail) as Record<string, unknown>;
            detail.clusterId = 'fuzz-bus';
            if (field !== 'none') detail[field] = value;
            return {
              Source: source,
              DetailType: CATALOG[condition].detailType,
              Detail: detailAsText ? String(value) : JSON.stringify(detail),
            };
          }),
        fc.record({ Source: nasty, DetailType: nasty, Detail: nasty }, { requiredKeys: [] }),
        anyValue,
      );
      const validIds = new Set<string>();
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.array(entry, { minLength: 1, maxLength: 10 }), anyValue),
          async (entries) => {
            const answer = await call('POST', '/events', { Entries: entries });
            expect(answer.status).toBeLessThan(500);
            if (answer.status !== 200 || !Array.isArray(entries)) return;
            expect(answer.body.Entries).toHaveLength(entries.length);
            answer.body.Entries.forEach((result: { EventId?: string }, index: number) => {
              const sent = entries[index] as { Source?: unknown; DetailType?: unknown; Detail?: unknown };
              if (!result.EventId || typeof sent.Detail !== 'string') return;
              const envelope = {
                version: '0',
                id: result.EventId,
                'detail-type': sent.DetailType,
                source: sent.Source,
                account: '000000000000',
                time: new Date().toISOString(),
                region: 'local',
                resources: [],
                detail: JSON.parse(sent.Detail),
              };
              if (validateConditionEvent(envelope).ok) validIds.add(result.EventId);
            });
          },
        ),
        { seed: SEED, numRuns: 60 },
      );
      await bus.runtime.consumer.idle();
      // Every email is of an accepted, valid event: no invalid one got through.
      const emailed = bus.relay.messages.map((message) => message.headers['x-appliance-notifier-event']);
      expect(emailed.length).toBeGreaterThan(0);
      expect(emailed.filter((id) => !validIds.has(String(id)))).toEqual([]);
    } finally {
      await bus.close();
    }
  });
});
