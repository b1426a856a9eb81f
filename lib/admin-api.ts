import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import { type ApiGatewayRoute, apiGatewayRoutes } from '../functions/admin-api/route-table.js';
import { CLUSTER_GROUP_PREFIX, DEFAULT_FLEET_ADMIN_GROUP } from '../functions/kernel/admin-groups.js';
import {
  ADMIN_PAGE_PATH,
  OAUTH_REDIRECT_PATH,
  OPENAPI_DOCUMENT_PATH,
} from '../functions/kernel/public-paths.js';

export type AdminAuthProps =
  | {
      readonly kind: 'cognito';
      /** Prefix of the hosted sign-in domain: `https://<prefix>.auth.<region>.amazoncognito.com`. */
      readonly domainPrefix: string;
      /** Extra callback URLs for a local admin page (e.g. `http://localhost:3000/admin/`). */
      readonly localCallbackUrls: readonly string[];
    }
  | { readonly kind: 'external'; readonly issuer: string; readonly audience: readonly string[] };

/** The JWT group whose members administer every cluster (`-c fleetAdminGroup=`, default `fleet-admins`). */
export const fleetAdminGroupOf = (auth: AdminAuthProps & { readonly fleetAdminGroup?: string }) =>
  auth.fleetAdminGroup ?? DEFAULT_FLEET_ADMIN_GROUP;

/** The admin API's own name (`-c domainName=... -c certificateArn=... -c hostedZoneId=... -c hostedZoneName=...`). */
export interface CustomDomainProps {
  /** e.g. `notifier.example.com`: in the hosted zone, and covered by the certificate. */
  readonly domainName: string;
  /** An ACM certificate in the stack's region (a regional API Gateway domain needs that). */
  readonly certificateArn: string;
  readonly hostedZoneId: string;
  /** The zone's name, e.g. `example.com`. */
  readonly hostedZoneName: string;
}

export interface AdminApiProps {
  readonly handler: lambda.IFunction;
  readonly auth: AdminAuthProps & { readonly fleetAdminGroup?: string };
  /** Serve the API at this name only (the execute-api endpoint is then disabled). */
  readonly customDomain?: CustomDomainProps;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** The HTTP API in front of the admin API function, with its JWT authorizer and stage. */
export class AdminApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogGroup: logs.LogGroup;
  readonly userPool?: AdminUserPool;
  /** With a custom domain: the domain, its mapping to the stage and its alias record. */
  readonly domain?: {
    readonly name: apigwv2.DomainName;
    readonly mapping: apigwv2.ApiMapping;
    readonly record: route53.ARecord;
  };
  /**
   * Where browsers reach the API (no trailing slash): `https://<custom domain>` when one is set,
   * `https://<id>.execute-api.<region>.amazonaws.com` otherwise.
   */
  readonly endpoint: string;

  constructor(scope: Construct, id: string, props: AdminApiProps) {
    super(scope, id);
    this.api = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'appliance-notifier admin API and OAuth redirect',
      createDefaultStage: false,
      // With a custom domain, the API answers at that name only. The redirect URIs registered with
      // Microsoft, Google and the Cognito app client name the domain, so a page or redirect on the
      // execute-api name could only fail sign-in; one name is also one address to monitor and to
      // put on a proxy's allowlist. (The smoke test then takes the domain: --api https://<domain>/.)
      disableExecuteApiEndpoint: props.customDomain !== undefined,
    });
    this.endpoint = props.customDomain ? `https://${props.customDomain.domainName}` : this.api.apiEndpoint;

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogGroup),
        // The path and query string are left out on purpose: the OAuth redirect carries the
        // authorization code in its query string.
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            principal: '$context.authorizer.claims.sub',
            authorizerError: '$context.authorizer.error',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    if (props.customDomain) {
      const { domainName, certificateArn, hostedZoneId, hostedZoneName } = props.customDomain;
      const name = new apigwv2.DomainName(this, 'DomainName', {
        domainName,
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', certificateArn),
        endpointType: apigwv2.EndpointType.REGIONAL,
        securityPolicy: apigwv2.SecurityPolicy.TLS_1_2,
      });
      const mapping = new apigwv2.ApiMapping(this, 'ApiMapping', {
        api: this.api,
        domainName: name,
        stage: this.stage,
      });
      const record = new route53.ARecord(this, 'AliasRecord', {
        zone: route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
          hostedZoneId,
          zoneName: hostedZoneName,
        }),
        recordName: domainName,
        target: route53.RecordTarget.fromAlias(
          new targets.ApiGatewayv2DomainProperties(name.regionalDomainName, name.regionalHostedZoneId),
        ),
      });
      this.domain = { name, mapping, record };
    }

    let issuer: string;
    let audience: string[];
    if (props.auth.kind === 'cognito') {
      this.userPool = new AdminUserPool(this, 'UserPool', {
        domainPrefix: props.auth.domainPrefix,
        callbackUrls: [`${this.endpoint}${ADMIN_PAGE_PATH}`, ...props.auth.localCallbackUrls],
        removalPolicy: props.removalPolicy,
        fleetAdminGroup: fleetAdminGroupOf(props.auth),
      });
      issuer = `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${this.userPool.pool.userPoolId}`;
      audience = [this.userPool.client.userPoolClientId];
    } else {
      issuer = props.auth.issuer;
      audience = [...props.auth.audience];
    }
    const authorizer = new HttpJwtAuthorizer('AdminJwt', issuer, { jwtAudience: audience });
    const integration = new HttpLambdaIntegration('AdminApiFunction', props.handler);

    // Every route of the admin API function's route table; nothing else reaches the function.
    const routes = apiGatewayRoutes();
    const publicLimits = publicRouteThrottle(props.throttle, routes);
    const stageResource = this.stage.node.defaultChild as apigwv2.CfnStage;
    // RouteSettings is a JSON map (route key -> settings) that CDK passes through unchanged, hence
    // the CloudFormation property names.
    stageResource.routeSettings = Object.fromEntries(
      [...publicLimits.routeKeys].map((key) => [
        key,
        { ThrottlingRateLimit: publicLimits.rateLimit, ThrottlingBurstLimit: publicLimits.burstLimit },
      ]),
    );
    for (const route of routes) {
      const [created] = this.api.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration,
        authorizer: route.access === 'admin' ? authorizer : new apigwv2.HttpNoneAuthorizer(),
      });
      if (route.access === 'public' && created) {
        // CloudFormation rejects RouteSettings that name a route key the API does not have yet.
        this.stage.node.addDependency(created);
        Validations.of(created).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            route.path === OPENAPI_DOCUMENT_PATH
              ? `${route.method} ${route.path} is public by design: the API's OpenAPI document describes the routes and holds no data (like the sign-in page); the routes it describes keep their authorizer.`
              : `${route.method} ${route.path} is public by design: the browser reaches it by redirect without a token (OAuth redirect target or the sign-in page itself); the handler protects it (one-time state, PKCE, nothing reflected).`,
        });
      }
    }
  }

  /** The redirect URI to register with Microsoft Entra ID or Google. */
  get oauthRedirectUri(): string {
    return `${this.endpoint}${OAUTH_REDIRECT_PATH}`;
  }
}

export interface RouteThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/** Share of the stage's default route limits that all public routes together may use. */
export const PUBLIC_ROUTES_SHARE = 0.25;

/**
 * The route-level throttle of each unauthenticated route, so that a flood on them cannot starve
 * the admin API.
 *
 * An HTTP API's default route throttle (the stage's `throttle`, `apiRateLimit`/`apiBurstLimit`,
 * default 20 requests/s with a burst of 40) is a token bucket per route, not one for the whole
 * stage. All routes, though, share the one admin API function (and its account's Lambda
 * concurrency) and the account-level API Gateway limit per Region (10,000 requests/s, burst
 * 5,000, across every API in the account). Without overrides the public routes (9 route keys
 * today: the root's redirect, the OAuth redirect, the admin page and its assets, each plain and
 * `{proxy+}` where the path ends in `/`, and `GET /openapi.json`) could together push 9 x 20 =
 * 180 requests/s into the function, nine times what a single admin route may.
 *
 * So the public routes together get a quarter of one route's default: rate = stage rate x 0.25
 * / number of public route keys, rounded down to 0.01 (20 -> 0.55 each, 4.95 requests/s in all);
 * burst = stage burst x 0.25 / number of public route keys, rounded down, at least 2 (so two
 * browsers loading the page at the same moment both get the asset; 40 -> 2 each, 18 in all).
 * A sign-in costs one request per route (page, script, styles, settings) and the redirect
 * happens once per mailbox authorization, so 0.55/s per route is some 33 page loads a minute,
 * plenty for a handful of administrators. Admin routes keep the stage default (20/s, burst 40
 * each): behind the JWT authorizer, only signed-in administrators reach them. The public total
 * (5/s) stays well below the stage's default and far below the account-level limit.
 */
export function publicRouteThrottle(
  stage: RouteThrottle,
  routes: readonly ApiGatewayRoute[],
): RouteThrottle & { readonly routeKeys: ReadonlySet<string> } {
  const routeKeys = new Set(routes.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.path}`));
  const count = Math.max(routeKeys.size, 1);
  const rateLimit = Math.floor(((stage.rateLimit * PUBLIC_ROUTES_SHARE) / count) * 100) / 100;
  const burstLimit = Math.max(2, Math.floor((stage.burstLimit * PUBLIC_ROUTES_SHARE) / count));
  if (routeKeys.size > 0 && (rateLimit <= 0 || rateLimit * routeKeys.size >= stage.rateLimit)) {
    throw new Error(
      `AdminApi: a stage rate limit of ${stage.rateLimit}/s leaves no room for ${routeKeys.size} public routes; raise apiRateLimit`,
    );
  }
  return { rateLimit, burstLimit: Math.min(burstLimit, stage.burstLimit), routeKeys };
}

export interface AdminUserPoolProps {
  readonly domainPrefix: string;
  readonly callbackUrls: readonly string[];
  readonly removalPolicy: RemovalPolicy;
  /** Created in the pool: its members administer every cluster. */
  readonly fleetAdminGroup?: string;
}

/**
 * The administrators' sign-in when no external issuer is configured: no self sign-up (admins
 * are invited), MFA required, strong passwords, threat protection enforced, and one public app
 * client for the admin page (authorization code with PKCE, no client secret in a browser).
 */
export class AdminUserPool extends Construct {
  readonly pool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  readonly domain: cognito.UserPoolDomain;
  /** Its members administer every cluster; a group `cluster-<clusterId>` (created by an operator) gives one. */
  readonly fleetAdmins: cognito.UserPoolGroup;

  constructor(scope: Construct, id: string, props: AdminUserPoolProps) {
    super(scope, id);
    this.pool = new cognito.UserPool(this, 'Pool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy: props.removalPolicy,
    });
    // A user in neither this group nor a `cluster-<clusterId>` group signs in but sees no cluster.
    this.fleetAdmins = this.pool.addGroup('FleetAdmins', {
      groupName: props.fleetAdminGroup ?? DEFAULT_FLEET_ADMIN_GROUP,
      description: `Administers every cluster; a group ${CLUSTER_GROUP_PREFIX}<clusterId> administers one`,
      precedence: 0,
    });
    this.domain = this.pool.addDomain('HostedUi', { cognitoDomain: { domainPrefix: props.domainPrefix } });
    this.client = this.pool.addClient('AdminPage', {
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
        callbackUrls: [...props.callbackUrls],
        logoutUrls: [...props.callbackUrls],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
    });
  }

  /** `https://<prefix>.auth.<region>.amazoncognito.com` */
  get hostedUiUrl(): string {
    return this.domain.baseUrl();
  }
}
