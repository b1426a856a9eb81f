import { describe, expect, it } from '@jest/globals';
import { InMemoryAuditLog, LoggedAuditLog } from '../../functions/core/audit/audit-log.js';
import {
  bearerTokenAuthenticator,
  jwtAuthenticator,
  jwtAuthorizerAuthenticator,
} from '../../functions/shared/auth.js';
import { clusterScopeOfClaims, groupsOfClaim, mayAdminister } from '../../functions/shared/cluster-access.js';
import { apiEvent } from '../support/api-gateway.js';

describe('groupsOfClaim', () => {
  it.each([
    ['the HTTP API authorizer string form', '[fleet-admins cluster-c1]', ['fleet-admins', 'cluster-c1']],
    ['one group in brackets', '[cluster-c1]', ['cluster-c1']],
    ['a real array', ['cluster-c1', 'cluster-c2'], ['cluster-c1', 'cluster-c2']],
    ['JSON array text', '["cluster-c1","cluster-c2"]', ['cluster-c1', 'cluster-c2']],
    ['a comma-separated list', 'cluster-c1, cluster-c2', ['cluster-c1', 'cluster-c2']],
    ['one bare group', 'cluster-c1', ['cluster-c1']],
    ['empty brackets', '[]', []],
    ['absent', undefined, []],
    ['a number', 42, []],
    ['an array with non-strings', ['cluster-c1', 7, null], ['cluster-c1']],
  ])('reads %s', (_name, claim, groups) => {
    expect(groupsOfClaim(claim)).toEqual(groups);
  });
});

describe('clusterScopeOfClaims', () => {
  it('gives every cluster to the fleet admin group, under the deployment’s name for it', () => {
    expect(clusterScopeOfClaims({ 'cognito:groups': '[ops cluster-c1 fleet-admins]' }, 'fleet-admins')).toBe(
      'all',
    );
    expect(clusterScopeOfClaims({ 'cognito:groups': '[fleet-admins]' }, 'notifier-admins')).toEqual([]);
    expect(clusterScopeOfClaims({ 'cognito:groups': '[notifier-admins]' }, 'notifier-admins')).toBe('all');
  });

  it('gives the clusters of cluster-<id> groups and of the custom:clusters claim, and nothing else', () => {
    const scope = clusterScopeOfClaims(
      { 'cognito:groups': '[cluster-c2 ops cluster-]', 'custom:clusters': 'c1,c3' },
      'fleet-admins',
    );

    expect(scope).toEqual(['c1', 'c2', 'c3']);
  });

  it('reads an external issuer’s `groups` claim', () => {
    expect(clusterScopeOfClaims({ groups: ['cluster-c9'] }, 'fleet-admins')).toEqual(['c9']);
  });

  it('gives no cluster without a group or claim', () => {
    expect(clusterScopeOfClaims({ sub: 'u-1' }, 'fleet-admins')).toEqual([]);
  });
});

describe('the authenticators’ principals', () => {
  it('scope a JWT user to the clusters of their groups', () => {
    const event = apiEvent({
      method: 'GET',
      path: '/clusters',
      claims: { sub: 'u-1', email: 'ann@example.com', 'cognito:groups': '[cluster-c1]' },
    });

    const principal = jwtAuthorizerAuthenticator(event);

    expect(principal).toEqual({ id: 'ann@example.com', clusters: ['c1'], via: 'jwt' });
    expect(mayAdminister(principal, 'c1')).toBe(true);
    expect(mayAdminister(principal, 'c2')).toBe(false);
  });

  it('take the fleet admin group’s name from the deployment', () => {
    const event = apiEvent({
      method: 'GET',
      path: '/clusters',
      claims: { sub: 'u-1', 'cognito:groups': '[ops-all]' },
    });

    expect(jwtAuthenticator({ fleetAdminGroup: 'ops-all' })(event)?.clusters).toBe('all');
    expect(jwtAuthorizerAuthenticator(event)?.clusters).toEqual([]);
  });

  it('make the admin token a fleet admin and a per-cluster token an admin of its cluster', () => {
    const token = 'Zq8v1fXw3kLpR7sT2mNb6yHc4dJg9eAu';
    const authenticate = bearerTokenAuthenticator(token, {
      verify: (candidate) => (candidate === 'cat_scoped' ? { tokenId: 't1', clusterId: 'c1' } : undefined),
    });
    const as = (bearer: string) =>
      authenticate(
        apiEvent({ method: 'GET', path: '/clusters', headers: { authorization: `Bearer ${bearer}` } }),
      );

    expect(as(token)).toEqual({ id: 'admin-token', clusters: 'all', via: 'token' });
    expect(as('cat_scoped')).toEqual({ id: 'admin-token:t1', clusters: ['c1'], via: 'token' });
    expect(as('cat_other')).toBeUndefined();
  });
});

describe('LoggedAuditLog', () => {
  const entry = { actor: 'ann@example.com', action: 'config.save', clusterId: 'c1' } as const;

  it('logs every entry with the user', async () => {
    const lines: unknown[][] = [];
    const log = { debug() {}, info: (...args: unknown[]) => lines.push(args), warn() {}, error() {} };
    const audit = new LoggedAuditLog(new InMemoryAuditLog(), log);

    const recorded = await audit.record(entry);

    expect(lines).toEqual([['audit', { audit: recorded, user: 'ann@example.com', clusterId: 'c1' }]]);
    expect((await audit.page('c1', { limit: 5 })).entries).toEqual([recorded]);
  });

  it('fails when the store fails, and still logs who did what', async () => {
    const errors: unknown[][] = [];
    const log = { debug() {}, info() {}, warn() {}, error: (...args: unknown[]) => errors.push(args) };
    const failing = {
      record: async () => {
        throw new Error('table unavailable');
      },
      page: async () => ({ entries: [] }),
    };

    await expect(new LoggedAuditLog(failing, log).record(entry)).rejects.toThrow('table unavailable');
    expect(errors).toEqual([
      ['audit entry not stored', expect.objectContaining({ user: 'ann@example.com', audit: entry })],
    ]);
  });
});
