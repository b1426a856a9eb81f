// Notify takes the cluster a publisher may speak for from the event's source
// (`appliance.failover.<clusterId>`, which the cluster's publisher policy enforces in AWS): an
// event whose detail names another cluster is rejected, recorded, and folds nothing.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { validateConditionEvent } from '../../events/envelope.js';
import { publisherSource } from '../../events/publisher-source.js';
import { loadSample } from '../../events/samples.js';
import { EmailConfigInputSchema } from '../../functions/core/config/email-config.js';
import { createLogger } from '../../functions/shared/logger.js';
import { type TestServices, testServices } from '../support/services.js';
import { type SmtpTestServer, startSmtpTestServer } from '../support/smtp-test-server.js';

const VICTIM = 'us-east-2';
const ATTACKER = 'eu-prod-1';
const T0 = new Date('2026-11-28T02:00:00Z');

let dataDir: string;
let services: TestServices;
let relay: SmtpTestServer;

function event(source: string, clusterId: string | undefined, hostname = 'fw2.us.example.com') {
  const sample = loadSample('primary-check-failed');
  const detail: Record<string, unknown> = {
    ...sample.detail,
    appliance: { ...sample.detail.appliance, hostname },
  };
  if (clusterId === undefined) delete detail.clusterId;
  else detail.clusterId = clusterId;
  return { ...sample, id: randomUUID(), time: T0.toISOString(), source, detail };
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'notify-source-'));
  relay = await startSmtpTestServer({ mode: 'plain' });
  services = await testServices({ dataDir, log: createLogger({ logLevel: 'SILENT' }), clock: () => T0 });
  for (const clusterId of [VICTIM, 'default']) {
    await services.emailConfig.save(
      clusterId,
      EmailConfigInputSchema.parse({
        sender: 'appliance@example.com',
        smtp: { host: relay.host, port: relay.port, encryption: 'none' },
        adminContacts: `ops@${clusterId}.example.com`,
        grouping: { waitSeconds: 0 },
      }),
    );
  }
});

afterAll(async () => {
  await services?.close();
  await relay?.close();
  await rm(dataDir, { recursive: true, force: true });
});

beforeEach(() => relay.reset());

describe('the source names the cluster', () => {
  it("rejects an event whose detail names another cluster than its source's, records it, and folds nothing", async () => {
    // Act: another cluster's publisher pre-sends the victim appliance's condition
    const forged = event(publisherSource(ATTACKER), VICTIM);
    const rejected = await services.notify.handle(forged);
    // ...then the victim's own publisher reports the same condition of the same appliance
    const genuine = await services.notify.handle(event(publisherSource(VICTIM), VICTIM));

    // Assess
    expect(rejected).toMatchObject({ clusterId: VICTIM, outcome: 'rejected' });
    expect(rejected.reason).toBe(
      `cluster mismatch: source "appliance.failover.${ATTACKER}" may publish for cluster "${ATTACKER}" only, but the detail names cluster "${VICTIM}"`,
    );
    const record = await services.deliveries.getRecord(VICTIM, forged.id);
    expect(record).toMatchObject({ outcome: 'rejected', reason: rejected.reason });
    expect(genuine.outcome).toBe('sent');
    const [message] = await relay.waitForMessages(1);
    expect(message?.rcptTo).toEqual([`ops@${VICTIM}.example.com`]);
  });

  it('takes a detail without clusterId as cluster default: only the default source may send it', async () => {
    const other = await services.notify.handle(
      event(publisherSource(ATTACKER), undefined, 'fw3.example.com'),
    );
    const own = await services.notify.handle(event(publisherSource('default'), undefined, 'fw3.example.com'));

    expect(other).toMatchObject({ clusterId: 'default', outcome: 'rejected' });
    expect(other.reason).toContain('the detail names cluster "default"');
    expect(own.outcome).toBe('sent');
  });

  it('still takes the plain legacy source (routed in AWS only with -c legacyPublisher=true)', async () => {
    const result = await services.notify.handle(event('appliance.failover', VICTIM, 'fw4.us.example.com'));

    expect(result.outcome).toBe('sent');
  });

  it.each([
    ['appliance.failover.', 'the cluster id after "appliance.failover."'],
    ['appliance.failover.bad id', 'the cluster id after "appliance.failover."'],
    ['appliance.failoverx', 'is neither "appliance.failover.<clusterId>" nor "appliance.failover"'],
    ['other.service', 'is neither'],
  ])('rejects the source %j as unexpected', (source, message) => {
    const result = validateConditionEvent(event(source, VICTIM));

    expect(result).toMatchObject({ ok: false, code: 'unexpected-source' });
    expect(result.ok ? '' : result.reason).toContain(message);
  });

  it('names the code cluster-mismatch', () => {
    expect(validateConditionEvent(event(publisherSource(ATTACKER), VICTIM))).toMatchObject({
      ok: false,
      code: 'cluster-mismatch',
    });
  });
});
