// Admins bound to their clusters in AWS: the fleet admin group in the Cognito user pool, and the
// admin API function told its name (it reads the JWT's `cognito:groups`).
import { describe, expect, test } from '@jest/globals';
import type { Template } from 'aws-cdk-lib/assertions';
import { Match } from 'aws-cdk-lib/assertions';
import { buildStack, functionId, logicalIdOf } from './support.js';

/** The admin API function's FLEET_ADMIN_GROUP. */
function fleetGroupOfFunction(template: Template): unknown {
  const resources = template.toJSON().Resources as Record<
    string,
    { Properties: { Environment?: { Variables?: Record<string, unknown> } } }
  >;
  return resources[functionId(template, 'appliance-notifier admin API')]?.Properties.Environment?.Variables
    ?.FLEET_ADMIN_GROUP;
}

describe('the fleet admin group', () => {
  test('is created in the user pool as fleet-admins by default, and the admin API reads that name', () => {
    const { template } = buildStack();
    const pool = logicalIdOf(template, 'AWS::Cognito::UserPool', {});

    template.resourceCountIs('AWS::Cognito::UserPoolGroup', 1);
    template.hasResourceProperties('AWS::Cognito::UserPoolGroup', {
      GroupName: 'fleet-admins',
      UserPoolId: { Ref: pool },
      Description: Match.stringLikeRegexp('cluster-<clusterId>'),
    });
    expect(fleetGroupOfFunction(template)).toBe('fleet-admins');
  });

  test('takes its name from -c fleetAdminGroup', () => {
    const { template } = buildStack({ fleetAdminGroup: 'notifier-admins' });

    template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'notifier-admins' });
    expect(fleetGroupOfFunction(template)).toBe('notifier-admins');
  });

  test('with an external issuer, no group is created but the function still knows the name to look for', () => {
    const { template } = buildStack({
      jwtIssuer: 'https://issuer.example.com/',
      jwtAudience: 'api://notifier',
      fleetAdminGroup: 'NotifierFleet',
    });

    template.resourceCountIs('AWS::Cognito::UserPoolGroup', 0);
    expect(fleetGroupOfFunction(template)).toBe('NotifierFleet');
  });

  test('refuses a group name with spaces', () => {
    expect(() => buildStack({ fleetAdminGroup: 'fleet admins' })).toThrow(/fleetAdminGroup/);
  });
});
