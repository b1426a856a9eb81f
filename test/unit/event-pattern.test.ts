import { describe, expect, it } from '@jest/globals';
import { CONDITION_IDS } from '../../events/catalog.js';
import {
  cdkEventPattern,
  type EventPattern,
  matchesPattern,
  rulePattern,
} from '../../events/event-pattern.js';
import { publisherSource } from '../../events/publisher-source.js';
import { loadSample } from '../../events/samples.js';

/** A sample as its cluster's publisher sends it in AWS (the samples carry the legacy source). */
const published = (id: (typeof CONDITION_IDS)[number]) => {
  const sample = loadSample(id);
  return { ...sample, source: publisherSource(sample.detail.clusterId ?? 'default') };
};

describe('rule patterns', () => {
  it('is the per-cluster source prefix plus the exact detail-type, as the EventBridge rule needs it', () => {
    const pattern = rulePattern('promotion-pending');

    expect(pattern).toEqual({
      source: [{ prefix: 'appliance.failover.' }],
      'detail-type': ['Failover Promotion Pending'],
    });
  });

  it('takes the plain legacy source too only when asked', () => {
    const legacy = loadSample('promotion-pending');

    expect(matchesPattern(rulePattern('promotion-pending'), legacy)).toBe(false);
    expect(matchesPattern(rulePattern('promotion-pending', { legacySource: true }), legacy)).toBe(true);
    expect(rulePattern('promotion-pending', { legacySource: true }).source).toEqual([
      { prefix: 'appliance.failover.' },
      'appliance.failover',
    ]);
  });

  it('has the key CDK expects (detailType) in its CDK form, the prefix through the given matcher', () => {
    const pattern = cdkEventPattern('data-sync-stale', { prefix: (value) => [`prefix:${value}`] });

    expect(pattern).toEqual({
      source: ['prefix:appliance.failover.'],
      detailType: ['Failover Data Sync Stale'],
    });
  });

  it.each(CONDITION_IDS)('%s: its pattern matches its own sample and none of the others', (id) => {
    const pattern = rulePattern(id);

    const matched = CONDITION_IDS.filter((other) => matchesPattern(pattern, published(other)));

    expect(matched).toEqual([id]);
  });

  it('does not take a source that merely starts like the prefix without its dot', () => {
    const event = { ...published('backup-promoted'), source: 'appliance.failoverx' };

    expect(matchesPattern(rulePattern('backup-promoted', { legacySource: true }), event)).toBe(false);
  });

  it('does not match the right detail-type from another source', () => {
    const event = { ...loadSample('backup-promoted'), source: 'appliance.other' };

    expect(matchesPattern(rulePattern('backup-promoted'), event)).toBe(false);
  });
});

describe('matchesPattern', () => {
  it('compares strings exactly, case included', () => {
    const event = { ...loadSample('version-mismatch'), 'detail-type': 'failover version mismatch' };

    expect(matchesPattern(rulePattern('version-mismatch', { legacySource: true }), event)).toBe(false);
  });

  it('requires every field the pattern names', () => {
    const { source: _, ...event } = loadSample('version-mismatch');

    expect(matchesPattern(rulePattern('version-mismatch'), event)).toBe(false);
  });

  it('matches when the value is any of the listed ones', () => {
    const pattern: EventPattern = {
      'detail-type': ['Failover Backup Promoted', 'Failover Version Mismatch'],
    };

    expect(matchesPattern(pattern, loadSample('version-mismatch'))).toBe(true);
    expect(matchesPattern(pattern, loadSample('data-sync-stale'))).toBe(false);
  });

  it('matches an array field when any element is listed (EventBridge semantics for resources)', () => {
    const pattern: EventPattern = { resources: ['arn:aws:ec2:eu-central-1:123456789012:instance/i-0abc'] };
    const event = {
      ...loadSample('version-mismatch'),
      resources: ['arn:aws:ec2:eu-central-1:123456789012:instance/i-0def', pattern.resources?.[0]],
    };

    expect(matchesPattern(pattern, event)).toBe(true);
    expect(matchesPattern(pattern, loadSample('version-mismatch'))).toBe(false);
  });

  it('matches nothing with an empty value list, everything with an empty pattern', () => {
    const sample = loadSample('version-mismatch');

    expect(matchesPattern({ source: [] }, sample)).toBe(false);
    expect(matchesPattern({}, sample)).toBe(true);
  });

  it.each([
    ['null', null],
    ['a string', 'appliance.failover'],
    ['an array', [loadSample('version-mismatch')]],
    ['a number in the field', { source: 1, 'detail-type': 'Failover Version Mismatch' }],
  ])('does not match (or throw for) %s', (_name, event) => {
    expect(matchesPattern(rulePattern('version-mismatch'), event)).toBe(false);
  });

  it('refuses content filters it does not implement instead of matching differently from AWS', () => {
    const pattern = { source: [{ suffix: '.eu-prod-1' }] } as unknown as EventPattern;

    expect(() => matchesPattern(pattern, loadSample('version-mismatch'))).toThrow(TypeError);
  });
});
