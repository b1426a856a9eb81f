import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { apiGatewayRoutes } from '../functions/admin-api/route-table.js';
import { ADMIN_PAGE_PATH, OAUTH_REDIRECT_PATH } from '../functions/kernel/public-paths.js';

export type AdminAuthProps =
  | {
      readonly kind: 'cognito';
      /** Prefix of the hosted sign-in domain: `https://<prefix>.auth.<region>.amazoncognito.com`. */
      readonly domainPrefix: string;
      /** Extra callback URLs for a local admin page (e.g. `http://localhost:3000/admin/`). */
      readonly localCallbackUrls: readonly string[];
    }
  | { readonly kind: 'external'; readonly issuer: string; readonly audience: readonly string[] };

export interface AdminApiProps {
  readonly handler: lambda.IFunction;
  readonly auth: AdminAuthProps;
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
  /** `https://<id>.execute-api.<region>.amazonaws.com` (no trailing slash). */
  readonly endpoint: string;

  constructor(scope: Construct, id: string, props: AdminApiProps) {
    super(scope, id);
    this.api = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'appliance-notifier admin API and OAuth redirect',
      createDefaultStage: false,
    });
    this.endpoint = this.api.apiEndpoint;

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

    let issuer: string;
    let audience: string[];
    if (props.auth.kind === 'cognito') {
      this.userPool = new AdminUserPool(this, 'UserPool', {
        domainPrefix: props.auth.domainPrefix,
        callbackUrls: [`${this.endpoint}${ADMIN_PAGE_PATH}`, ...props.auth.localCallbackUrls],
        removalPolicy: props.removalPolicy,
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
    for (const route of apiGatewayRoutes()) {
      const [created] = this.api.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration,
        authorizer: route.access === 'admin' ? authorizer : new apigwv2.HttpNoneAuthorizer(),
      });
      if (route.access === 'public' && created) {
        Validations.of(created).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${route.method} ${route.path} is public by design: the browser reaches it by redirect without a token (OAuth redirect target or the sign-in page itself); the handler protects it (one-time state, PKCE, nothing reflected).`,
        });
      }
    }
  }

  /** The redirect URI to register with Microsoft Entra ID or Google. */
  get oauthRedirectUri(): string {
    return `${this.endpoint}${OAUTH_REDIRECT_PATH}`;
  }
}

export interface AdminUserPoolProps {
  readonly domainPrefix: string;
  readonly callbackUrls: readonly string[];
  readonly removalPolicy: RemovalPolicy;
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
