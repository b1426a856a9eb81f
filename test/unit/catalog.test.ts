import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import {
  CATALOG,
  CONDITION_IDS,
  type ConditionId,
  clusterIdOf,
  commonFacts,
  conditionByDetailType,
  conditionsSummary,
  inhibitableKeys,
  inhibitedKeys,
  isConditionId,
  type Severity,
} from '../../events/catalog.js';
import { validateConditionEvent } from '../../events/envelope.js';
import { loadSample, SAMPLES_DIRECTORY } from '../../events/samples.js';

interface Expectation {
  /** SPEC.md "Events that send email", copied by hand: the catalog must agree with SPEC, not with itself. */
  detailType: string;
  severity: Severity;
  /** Values from the sample that the facts must show, in both languages. */
  shows: string[];
  /** Rendered values that depend on the language (durations). */
  showsEn?: string[];
  showsDe?: string[];
}

// Typed over the catalog: a condition without a row here does not compile.
const expectations: Record<ConditionId, Expectation> = {
  'version-mismatch': {
    detailType: 'Failover Version Mismatch',
    severity: 'critical',
    shows: ['24.3.2', '24.2.1'],
  },
  'shared-ip-interface-disabled': {
    detailType: 'Failover Shared IP Interface Disabled',
    severity: 'critical',
    shows: ['10.20.0.10', 'eth1'],
  },
  'shared-ip-not-assigned': {
    detailType: 'Failover Shared IP Not Assigned',
    severity: 'warning',
    shows: ['10.20.0.10', '10.20.0.11, 10.20.1.11'],
  },
  'primary-and-test-ips-unreachable': {
    detailType: 'Failover Primary And Test IPs Unreachable',
    severity: 'critical',
    shows: ['pra-primary-01.example.com', '10.20.0.1, 192.0.2.53'],
  },
  'test-ips-unreachable': {
    detailType: 'Failover Test IPs Unreachable',
    severity: 'warning',
    shows: ['10.20.0.1, 192.0.2.53'],
  },
  'backup-operations-disabled': {
    detailType: 'Failover Backup Operations Disabled',
    severity: 'warning',
    shows: ['16:42:10 UTC', 'j.schneider'],
    showsEn: ['17 min 50 s before'],
    showsDe: ['17 Min. 50 Sek. vor'],
  },
  'self-check-failed': {
    detailType: 'Failover Self Check Failed',
    severity: 'critical',
    shows: ['failover status probe exited with code 137 (killed: out of memory)'],
  },
  'primary-hostname-unreachable': {
    detailType: 'Failover Primary Hostname Unreachable',
    severity: 'warning',
    shows: ['pra-primary-01.example.com', '10.20.0.99'],
  },
  'primary-check-failed': {
    detailType: 'Failover Primary Check Failed',
    severity: 'critical',
    shows: ['pra-primary-01.example.com', '02:58:30 UTC'],
    showsEn: ['5 min 42 s before', 'off'],
    showsDe: ['5 Min. 42 Sek. vor', 'deaktiviert'],
  },
  'promotion-pending': {
    detailType: 'Failover Promotion Pending',
    severity: 'critical',
    shows: ['pra-primary-01.example.com', '03:08:42 UTC'],
    showsEn: ['4 min 30 s'],
    showsDe: ['4 Min. 30 Sek.'],
  },
  'backup-promoted': {
    detailType: 'Failover Backup Promoted',
    severity: 'critical',
    shows: ['pra-backup-01.example.com', 'pra-primary-01.example.com', '03:08:42 UTC'],
    showsEn: ['7 min 3 s'],
    showsDe: ['7 Min. 3 Sek.'],
  },
  'data-sync-stale': {
    detailType: 'Failover Data Sync Stale',
    severity: 'warning',
    shows: ['pra-backup-01.example.com', '02:10:00 UTC'],
    showsEn: ['1 day 2 h before'],
    showsDe: ['1 Tag 2 Std. vor'],
  },
};

function validSample(id: ConditionId) {
  const result = validateConditionEvent(loadSample(id));
  if (!result.ok) throw new Error(`sample ${id} was rejected: ${result.reason}`);
  return result;
}

describe('condition catalog', () => {
  it('has the twelve conditions of SPEC, in its order', () => {
    expect(Object.keys(CATALOG)).toEqual(Object.keys(expectations));
    expect(CONDITION_IDS).toHaveLength(12);
  });

  it.each(CONDITION_IDS)('%s has the detail-type and severity of SPEC', (id) => {
    const condition = CATALOG[id];

    expect({ id: condition.id, detailType: condition.detailType, severity: condition.severity }).toEqual({
      id,
      detailType: expectations[id].detailType,
      severity: expectations[id].severity,
    });
    expect(conditionByDetailType(expectations[id].detailType)?.id).toBe(id);
  });

  it('finds conditions by exact detail-type only', () => {
    expect(conditionByDetailType('failover version mismatch')).toBeUndefined();
    expect(conditionByDetailType('Failover Version Mismatch ')).toBeUndefined();
    expect(conditionByDetailType('__proto__')).toBeUndefined();
    expect(isConditionId('version-mismatch')).toBe(true);
    expect(isConditionId('toString')).toBe(false);
  });

  it.each(CONDITION_IDS)('%s: the sample validates against its condition', (id) => {
    const sample = loadSample(id);

    const result = validateConditionEvent(sample);

    expect(result).toMatchObject({ ok: true, id });
    expect(result.ok && clusterIdOf(result.detail)).toBe('eu-prod-1');
  });

  it.each(CONDITION_IDS)('%s: facts show the key values in English and German', (id) => {
    const { condition, detail } = validSample(id);
    const { shows, showsEn = [], showsDe = [] } = expectations[id];

    const en = condition.facts(detail, 'en');
    const de = condition.facts(detail, 'de');

    const text = (facts: { label: string; value: string }[]) =>
      facts.map((f) => `${f.label}: ${f.value}`).join('\n');
    for (const value of [...shows, ...showsEn]) expect(text(en)).toContain(value);
    for (const value of [...shows, ...showsDe]) expect(text(de)).toContain(value);
    expect(en.every((f) => f.label.trim() && f.value.trim())).toBe(true);
    expect(de.map((f) => f.label)).not.toEqual(en.map((f) => f.label));
  });

  it.each(CONDITION_IDS)('%s: title, description and checks exist in both languages', (id) => {
    const { title, description, checks } = CATALOG[id];

    for (const localized of [title, description]) {
      expect(localized.en.trim()).not.toBe('');
      expect(localized.de.trim()).not.toBe('');
      expect(localized.de).not.toBe(localized.en);
    }
    expect(checks.en.length).toBeGreaterThanOrEqual(2);
    expect(checks.de).toHaveLength(checks.en.length);
    expect(checks.de.some((step, i) => step === checks.en[i])).toBe(false);
  });

  it('points admins at the pages the seed names, in the language of the email', () => {
    const all = (language: 'en' | 'de') =>
      CONDITION_IDS.flatMap((id) => CATALOG[id].checks[language]).join('\n');

    expect(all('en')).toContain('Management > Failover');
    expect(all('de')).toContain('Verwaltung > Failover');
    expect(all('de')).not.toContain('Management > Failover');
    for (const page of ['/login', '/appliance']) {
      expect(all('en')).toContain(page);
      expect(all('de')).toContain(page);
    }
  });

  it('renders the shared facts: cluster, reporting appliance with its role, time', () => {
    const { detail } = validSample('promotion-pending');

    const de = commonFacts(detail, 'de');

    expect(de).toEqual([
      { label: 'Cluster', value: 'eu-prod-1' },
      { label: 'Gemeldet von', value: 'pra-backup-01.example.com (Sicherungsknoten, Version 24.3.2)' },
      { label: 'Festgestellt am', value: expect.stringContaining('03:04:12 UTC') },
    ]);
  });

  it('defaults the cluster to "default" when the event names none', () => {
    const { clusterId: _, ...detail } = loadSample('test-ips-unreachable').detail;

    const result = validateConditionEvent({ ...loadSample('test-ips-unreachable'), detail });

    expect(result.ok && clusterIdOf(result.detail)).toBe('default');
  });

  it('summarises the catalog for GET /conditions as plain JSON', () => {
    const summary = conditionsSummary();

    expect(JSON.parse(JSON.stringify(summary))).toEqual(summary);
    expect(summary.map((c) => c.id)).toEqual([...CONDITION_IDS]);
    expect(summary[0]).toMatchObject({
      id: 'version-mismatch',
      source: 'appliance.failover',
      detailType: 'Failover Version Mismatch',
      severity: 'critical',
      title: { en: expect.any(String), de: expect.any(String) },
    });
    expect(Object.keys(summary[0] ?? {})).not.toContain('detailSchema');
  });
});

describe('samples', () => {
  it('every file in events/samples names a catalog condition', () => {
    const files = readdirSync(fileURLToPath(SAMPLES_DIRECTORY));

    const orphans = files.filter((file) => !(file.endsWith('.json') && isConditionId(file.slice(0, -5))));

    expect(orphans).toEqual([]);
    expect(files).toHaveLength(CONDITION_IDS.length);
  });

  it('hands out a fresh copy each time', () => {
    const first = loadSample('data-sync-stale');

    first.detail.backupHostname = 'changed.example.com';

    expect(loadSample('data-sync-stale').detail.backupHostname).toBe('pra-backup-01.example.com');
  });
});

describe('rejected events', () => {
  it('names an unknown detail-type', () => {
    const event = { ...loadSample('version-mismatch'), 'detail-type': 'Failover Coffee Empty' };

    const result = validateConditionEvent(event);

    expect(result).toMatchObject({ ok: false, code: 'unknown-detail-type' });
    expect(!result.ok && result.reason).toContain('"Failover Coffee Empty"');
  });

  it('refuses a 300 KB detail before validating it', () => {
    const sample = loadSample('self-check-failed');
    const event = { ...sample, detail: { ...sample.detail, error: 'x'.repeat(300 * 1024) } };

    const result = validateConditionEvent(event);

    expect(result).toMatchObject({ ok: false, code: 'detail-too-large' });
    expect(!result.ok && result.reason).toMatch(/300\.\d KiB .*limit is 64 KiB/);
  });

  it.each([
    ['CR LF', 'pra-backup-01.example.com\r\nBcc: victim@example.org'],
    ['LF', 'pra-backup-01.example.com\nX-Evil: 1'],
    ['NUL', 'pra-backup-01\u0000.example.com'],
  ])('reports %s in appliance.hostname as control characters', (_name, hostname) => {
    const sample = loadSample('promotion-pending');
    const event = {
      ...sample,
      detail: { ...sample.detail, appliance: { ...sample.detail.appliance, hostname } },
    };

    const result = validateConditionEvent(event);

    expect(result).toMatchObject({ ok: false, code: 'control-characters' });
    expect(!result.ok && result.reason).toContain('detail.appliance.hostname');
    expect(!result.ok && result.reason).not.toMatch(/[\r\n]/);
  });

  it('names a missing field', () => {
    const { primaryHostname: _, ...detail } = loadSample('promotion-pending').detail;

    const result = validateConditionEvent({ ...loadSample('promotion-pending'), detail });

    expect(result).toMatchObject({
      ok: false,
      code: 'invalid-detail',
      issues: [{ path: 'detail.primaryHostname', message: 'is required' }],
    });
    expect(!result.ok && result.reason).toContain('detail.primaryHostname: is required');
  });

  it('names an unknown field, also inside appliance', () => {
    const sample = loadSample('data-sync-stale');
    const detail = {
      ...sample.detail,
      severity: 'low',
      appliance: { ...sample.detail.appliance, site: 'FRA' },
    };

    const result = validateConditionEvent({ ...sample, detail });

    expect(!result.ok && result.issues).toEqual(
      expect.arrayContaining([
        { path: 'detail.severity', message: 'is not a known field' },
        { path: 'detail.appliance.site', message: 'is not a known field' },
      ]),
    );
  });

  it.each([
    [
      'a test IP that is not an IP',
      'test-ips-unreachable',
      { testIps: ['10.20.0.1', '10.20.0.300'] },
      'detail.testIps.1',
    ],
    ['no test IPs', 'test-ips-unreachable', { testIps: [] }, 'detail.testIps'],
    [
      'a time without offset',
      'data-sync-stale',
      { lastSuccessfulSyncAt: '2026-11-27T02:10:00' },
      'detail.lastSuccessfulSyncAt',
    ],
    ['negative seconds', 'promotion-pending', { secondsUntilPromotion: -1 }, 'detail.secondsUntilPromotion'],
    [
      'fractional seconds',
      'promotion-pending',
      { secondsUntilPromotion: 1.5 },
      'detail.secondsUntilPromotion',
    ],
    ['a hostname with a space', 'data-sync-stale', { backupHostname: 'pra backup' }, 'detail.backupHostname'],
    ['a cluster id with a slash', 'data-sync-stale', { clusterId: '../eu-prod-1' }, 'detail.clusterId'],
    [
      'a bidi override in the error text',
      'self-check-failed',
      { error: 'probe failed \u202eexe.tob' },
      'detail.error',
    ],
    ['an empty error text', 'self-check-failed', { error: '   ' }, 'detail.error'],
    [
      'an unknown role',
      'self-check-failed',
      { appliance: { hostname: 'a', role: 'master', version: '1' } },
      'detail.appliance.role',
    ],
  ] as const)('rejects %s', (_name, id, patch, path) => {
    const sample = loadSample(id);

    const result = validateConditionEvent({ ...sample, detail: { ...sample.detail, ...patch } });

    expect(result).toMatchObject({ ok: false, code: 'invalid-detail' });
    expect(!result.ok && result.issues?.map((issue) => issue.path)).toEqual([path]);
  });

  it('rejects a line break in free text as control characters', () => {
    const sample = loadSample('self-check-failed');

    const result = validateConditionEvent({
      ...sample,
      detail: { ...sample.detail, error: 'failed\r\nBcc: x@y' },
    });

    expect(result).toMatchObject({ ok: false, code: 'control-characters' });
  });

  it('rejects a source other than appliance.failover', () => {
    const result = validateConditionEvent({ ...loadSample('backup-promoted'), source: 'aws.ec2' });

    expect(result).toMatchObject({ ok: false, code: 'unexpected-source' });
  });

  it('accepts a replayed event (EventBridge adds replay-name)', () => {
    const result = validateConditionEvent({
      ...loadSample('backup-promoted'),
      'replay-name': 'outage-2026-11-28',
    });

    expect(result.ok).toBe(true);
  });

  it.each([
    ['null', null],
    ['a string', 'Failover Version Mismatch'],
    ['an array', [loadSample('version-mismatch')]],
    ['an envelope without detail', { ...loadSample('version-mismatch'), detail: undefined }],
    ['a detail that is an array', { ...loadSample('version-mismatch'), detail: [] }],
    ['a detail that is a JSON string', { ...loadSample('version-mismatch'), detail: '{"clusterId":"x"}' }],
    ['a BigInt detail', { ...loadSample('version-mismatch'), detail: { n: 1n } }],
  ])('returns a reason instead of throwing for %s', (_name, input) => {
    const result = validateConditionEvent(input);

    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason.length).toBeGreaterThan(10);
  });
});

describe('inhibition, declared in the catalog', () => {
  const validDetail = <K extends ConditionId>(id: K, patch: Record<string, unknown> = {}) => {
    const sample = loadSample(id);
    const result = validateConditionEvent({ ...sample, detail: { ...sample.detail, ...patch } });
    if (!result.ok) throw new Error(result.reason);
    return result.detail;
  };

  it('declares the pairs an admin reads as one incident, each with a reason, and no cycles', () => {
    const pairs = CONDITION_IDS.flatMap((id) =>
      (CATALOG[id].supersedes ?? []).map((s) => `${id} > ${s.condition} (${s.scope})`),
    );

    expect(pairs).toEqual([
      'primary-and-test-ips-unreachable > test-ips-unreachable (same-appliance)',
      'backup-promoted > promotion-pending (same-primary)',
      'backup-promoted > primary-check-failed (same-primary)',
      'backup-promoted > primary-and-test-ips-unreachable (same-primary)',
    ]);
    for (const id of CONDITION_IDS) {
      for (const s of CATALOG[id].supersedes ?? []) {
        expect(s.why.en.length).toBeGreaterThan(20);
        expect(s.why.de.length).toBeGreaterThan(20);
        expect(s.condition).not.toBe(id);
        // A same-primary pair needs both ends to name their primary.
        if (s.scope === 'same-primary') {
          expect(CATALOG[id].primaryOf).toBeDefined();
          expect(CATALOG[s.condition].primaryOf).toBeDefined();
        }
        // No cycles: what a condition supersedes never supersedes it back (the pairs are one level deep).
        expect((CATALOG[s.condition].supersedes ?? []).map((t) => t.condition)).not.toContain(id);
      }
    }
    expect(conditionsSummary().find((c) => c.id === 'backup-promoted')?.supersedes).toHaveLength(3);
  });

  it('matches a promotion to the countdown about the same primary, whatever its case, and not another primary', () => {
    const promoted = validDetail('backup-promoted', {
      previousPrimaryHostname: 'PRA-Primary-01.example.com',
    });
    const pending = validDetail('promotion-pending', { primaryHostname: 'pra-primary-01.example.com' });
    const other = validDetail('promotion-pending', { primaryHostname: 'pra-primary-02.example.com' });

    const inhibits = inhibitedKeys('backup-promoted', promoted);

    expect(inhibitableKeys('promotion-pending', pending).some((key) => inhibits.includes(key))).toBe(true);
    expect(inhibitableKeys('promotion-pending', other).some((key) => inhibits.includes(key))).toBe(false);
  });

  it('matches test-ips-unreachable only to the wider failure reported by the same backup', () => {
    const wide = validDetail('primary-and-test-ips-unreachable');
    const sameBackup = validDetail('test-ips-unreachable', { appliance: wide.appliance });
    const otherBackup = validDetail('test-ips-unreachable', {
      appliance: { ...wide.appliance, hostname: 'other-backup.example.com' },
    });

    const inhibits = inhibitedKeys('primary-and-test-ips-unreachable', wide);

    expect(inhibitableKeys('test-ips-unreachable', sameBackup).some((key) => inhibits.includes(key))).toBe(
      true,
    );
    expect(inhibitableKeys('test-ips-unreachable', otherBackup).some((key) => inhibits.includes(key))).toBe(
      false,
    );
    expect(inhibitableKeys('version-mismatch', validDetail('version-mismatch'))).toEqual([]);
  });
});
