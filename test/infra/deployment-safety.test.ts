// Deployment safety (issue 13, item 12): every function is published as a version behind the
// `live` alias, and every invoker (the queue's event source mapping, the HTTP API integration,
// the schedule) calls the alias, with its invoke permission on the alias, not on $LATEST.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { LIVE_ALIAS } from '../../lib/notifier-function.js';
import { aliasFunctionName, aliasId, buildStack, FUNCTION_DESCRIPTIONS, functionId } from './support.js';

type Resources = Record<string, { Properties: Record<string, unknown> }>;

let template: Template;
beforeAll(() => {
  ({ template } = buildStack());
});

const aliasOf = (descriptionPrefix: string) => aliasId(template, descriptionPrefix);

describe('versions and aliases', () => {
  it.each(Object.entries(FUNCTION_DESCRIPTIONS))(
    'publishes %s as a version and points the live alias at it',
    (_name, description) => {
      const fnId = functionId(template, description);
      const versions = template.findResources('AWS::Lambda::Version', {
        Properties: { FunctionName: { Ref: fnId } },
      }) as Resources;
      expect(Object.keys(versions)).toHaveLength(1);
      const versionId = Object.keys(versions)[0] as string;
      template.hasResourceProperties('AWS::Lambda::Alias', {
        FunctionName: { Ref: fnId },
        Name: LIVE_ALIAS,
        FunctionVersion: { 'Fn::GetAtt': [versionId, 'Version'] },
      });
    },
  );

  it('has one alias per function and no other', () => {
    template.resourceCountIs('AWS::Lambda::Alias', Object.keys(FUNCTION_DESCRIPTIONS).length);
  });
});

describe('invokers call the alias', () => {
  it('the notify queue event source mapping invokes the notify alias', () => {
    const alias = aliasOf(FUNCTION_DESCRIPTIONS.notify);
    const mappings = template.findResources('AWS::Lambda::EventSourceMapping') as Resources;
    expect(Object.keys(mappings)).toHaveLength(1);
    // `<function name>:live`, taken from the alias's ARN (CDK splits it at the colons).
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: aliasFunctionName(alias),
    });
  });

  it('every HTTP API integration invokes the admin API alias', () => {
    const alias = aliasOf(FUNCTION_DESCRIPTIONS.adminApi);
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration') as Resources;
    expect(Object.keys(integrations).length).toBeGreaterThan(0);
    for (const integration of Object.values(integrations)) {
      expect(integration.Properties.IntegrationUri).toEqual({ Ref: alias });
    }
  });

  it('API Gateway may invoke the admin API alias, and nothing grants it the unqualified function', () => {
    const alias = aliasOf(FUNCTION_DESCRIPTIONS.adminApi);
    const fnId = functionId(template, FUNCTION_DESCRIPTIONS.adminApi);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      FunctionName: { Ref: alias },
    });
    const onFunction = template.findResources('AWS::Lambda::Permission', {
      Properties: { FunctionName: Match.objectLike({ 'Fn::GetAtt': [fnId, 'Arn'] }) },
    });
    expect(Object.keys(onFunction)).toHaveLength(0);
  });

  it('the daily schedule targets the daily notice alias, and its role may invoke only the alias', () => {
    const alias = aliasOf(FUNCTION_DESCRIPTIONS.dailyNotice);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({ Arn: { Ref: alias } }),
    });
    const schedules = template.findResources('AWS::Scheduler::Schedule') as Resources;
    const [schedule] = Object.values(schedules);
    if (!schedule) throw new Error('no schedule');
    const target = schedule.Properties.Target as { RoleArn: { 'Fn::GetAtt': [string] } };
    const roleArn = target.RoleArn['Fn::GetAtt'][0];
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: roleArn }] },
    }) as Resources;
    const statements = Object.values(policies).flatMap(
      (p) => (p.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement,
    );
    const invoke = statements.filter((s) => s.Action === 'lambda:InvokeFunction');
    expect(invoke).toHaveLength(1);
    const resources = [invoke[0]?.Resource].flat();
    expect(resources).toContainEqual({ Ref: alias });
    const fnId = functionId(template, FUNCTION_DESCRIPTIONS.dailyNotice);
    expect(JSON.stringify(resources)).not.toContain(`"${fnId}"`);
  });

  it('the daily notice retries and on-failure destination are set on the alias the schedule invokes', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionId(template, FUNCTION_DESCRIPTIONS.dailyNotice) },
      // The alias's name, taken from its ARN.
      Qualifier: {
        'Fn::Select': [7, { 'Fn::Split': [':', { Ref: aliasOf(FUNCTION_DESCRIPTIONS.dailyNotice) }] }],
      },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
  });
});
