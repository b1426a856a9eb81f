import { Match, type Template } from 'aws-cdk-lib/assertions';
import { stackPropsFromContext } from '../../lib/stack-config.js';
import { buildStack, FUNCTION_DESCRIPTIONS, functionId } from './support.js';

type Resources = Record<string, { Properties: Record<string, unknown> }>;

const fromContext = (context: Record<string, unknown>) =>
  stackPropsFromContext((key) => ({ offline: 'true', ...context })[key]);

const CERTIFICATE = 'arn:aws:acm:eu-central-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9';
const DOMAIN = {
  domainName: 'notifier.example.com',
  certificateArn: CERTIFICATE,
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  hostedZoneName: 'example.com',
} as const;

const onlyId = (template: Template, type: string) => {
  const found = Object.keys(template.findResources(type));
  expect(found).toHaveLength(1);
  return found[0] as string;
};

function adminApiVariables(template: Template): Record<string, unknown> {
  const fn = (template.findResources('AWS::Lambda::Function') as Resources)[
    functionId(template, FUNCTION_DESCRIPTIONS.adminApi)
  ];
  return (fn?.Properties.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
}

describe('a custom domain for the admin API', () => {
  const { template } = buildStack(DOMAIN);

  test('a regional API Gateway domain with the certificate and TLS 1.2', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'notifier.example.com',
      DomainNameConfigurations: [
        Match.objectLike({
          CertificateArn: CERTIFICATE,
          EndpointType: 'REGIONAL',
          SecurityPolicy: 'TLS_1_2',
        }),
      ],
    });
  });

  test('mapped to the API at its $default stage', () => {
    const domain = onlyId(template, 'AWS::ApiGatewayV2::DomainName');
    const api = onlyId(template, 'AWS::ApiGatewayV2::Api');
    template.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', {
      ApiId: { Ref: api },
      DomainName: { Ref: domain },
      Stage: '$default',
    });
  });

  test('an alias A record in the hosted zone, to the regional domain', () => {
    const domain = onlyId(template, 'AWS::ApiGatewayV2::DomainName');
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      HostedZoneId: 'Z0123456789ABCDEFGHIJ',
      Name: 'notifier.example.com.',
      Type: 'A',
      AliasTarget: {
        DNSName: { 'Fn::GetAtt': [domain, 'RegionalDomainName'] },
        HostedZoneId: { 'Fn::GetAtt': [domain, 'RegionalHostedZoneId'] },
      },
    });
  });

  test('the execute-api endpoint is off: the domain is the one way in', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: true });
  });

  test('ApiUrl, OAuthRedirectUri, PUBLIC_BASE_URL and the sign-in callback name the domain', () => {
    template.hasOutput('ApiUrl', { Value: 'https://notifier.example.com/' });
    template.hasOutput('OAuthRedirectUri', {
      Value: 'https://notifier.example.com/login/smtp-verification/',
    });
    expect(adminApiVariables(template).PUBLIC_BASE_URL).toBe('https://notifier.example.com');
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      CallbackURLs: ['https://notifier.example.com/admin/'],
      LogoutURLs: ['https://notifier.example.com/admin/'],
    });
  });

  test('a trailing dot on the zone name and capitals in the domain are normalized', () => {
    const props = fromContext({
      ...DOMAIN,
      domainName: 'Notifier.Example.com',
      hostedZoneName: 'example.com.',
    });
    expect(props.customDomain).toEqual(DOMAIN);
  });
});

describe('without a custom domain', () => {
  const { template } = buildStack();

  test('no domain, mapping or record; the execute-api URL everywhere', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
    template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 0);
    template.resourceCountIs('AWS::Route53::RecordSet', 0);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: false });
    const api = onlyId(template, 'AWS::ApiGatewayV2::Api');
    const executeApi = { 'Fn::GetAtt': [api, 'ApiEndpoint'] };
    expect(adminApiVariables(template).PUBLIC_BASE_URL).toEqual(executeApi);
    template.hasOutput('OAuthRedirectUri', {
      Value: { 'Fn::Join': ['', [executeApi, '/login/smtp-verification/']] },
    });
  });
});

describe('custom domain context errors', () => {
  test.each(Object.keys(DOMAIN))('all or nothing: without %s it names what is missing', (key) => {
    const { [key as keyof typeof DOMAIN]: _dropped, ...partial } = DOMAIN;
    expect(() => fromContext(partial)).toThrow(
      new RegExp(
        `a custom domain needs all of -c domainName, -c certificateArn, -c hostedZoneId, -c hostedZoneName; missing: ${key}$`,
        'm',
      ),
    );
  });

  test('two of four: both missing keys are named', () => {
    expect(() =>
      fromContext({ domainName: DOMAIN.domainName, hostedZoneName: DOMAIN.hostedZoneName }),
    ).toThrow(/missing: certificateArn, hostedZoneId/);
  });

  test.each([
    [
      { certificateArn: CERTIFICATE.replace('eu-central-1', 'us-east-1') },
      /-c certificateArn: the certificate is in us-east-1; a regional API domain needs one in the stack's region eu-central-1/,
    ],
    [
      { domainName: 'notifier.example.org' },
      /-c domainName: notifier\.example\.org is not in the hosted zone example\.com/,
    ],
    [{ domainName: 'not a name' }, /-c domainName: a DNS name/],
    [
      { certificateArn: 'arn:aws:iam::123456789012:server-certificate/x' },
      /-c certificateArn: an ACM certificate ARN/,
    ],
    [{ hostedZoneId: 'example.com' }, /-c hostedZoneId: a Route 53 hosted zone id/],
  ])('%j fails with %s', (override, message) => {
    expect(() => fromContext({ ...DOMAIN, ...override })).toThrow(message);
  });

  test('the domain may be the zone apex', () => {
    expect(fromContext({ ...DOMAIN, domainName: 'example.com' }).customDomain?.domainName).toBe(
      'example.com',
    );
  });
});
