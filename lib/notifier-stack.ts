import {
  CfnOutput,
  Duration,
  Lazy,
  type RemovalPolicy,
  Stack,
  type StackProps,
  Token,
  Validations,
} from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { EVENT_SOURCE } from '../events/catalog.js';
import { AdminApiEnvSchema } from '../functions/admin-api/env.js';
import { DailyNoticeEnvSchema } from '../functions/daily-notice/env.js';
import { NotifyEnvSchema } from '../functions/notify/env.js';
import { AdminApi, type AdminAuthProps } from './admin-api.js';
import { Alarms } from './alarms.js';
import type { FunctionName } from './bundling.js';
import { DailySchedule } from './daily-schedule.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { EventRules } from './event-rules.js';
import { DEFAULT_FUNCTION_TIMEOUTS, NotifierFunction } from './notifier-function.js';
import { configStatements, ledgerStatements, type SesSending, sesStatements } from './permissions.js';
import { PublisherPolicy } from './publisher-policy.js';
import { Storage } from './storage.js';

export const METRICS_NAMESPACE = 'ApplianceNotifier';
/** Powertools `service` names: the `service` dimension of each function's metrics. */
export const SERVICE_NAMES = {
  adminApi: 'appliance-notifier-admin-api',
  notify: 'appliance-notifier-notify',
  dailyNotice: 'appliance-notifier-daily-notice',
} as const satisfies Record<FunctionName, string>;

/** An ARN as cdk-nag spells it in a finding id: pseudo parameters as `<AWS::...>`. */
function nagArn(stack: Stack, service: string, resource: string): string {
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  return `arn:<AWS::Partition>:${service}:${region}:${account}:${resource}`;
}

export interface NotifierStackProps extends StackProps {
  /** SES identity (domain or address) the functions may send as; SMTP relays only when absent. */
  readonly ses?: SesSending;
  /** Alarm notifications by email (confirmed once by the recipient). */
  readonly alarmEmail?: string;
  readonly dailyNotice: { readonly time: string; readonly timeZone: string };
  readonly auth: AdminAuthProps;
  /** SSM path of the configuration parameters, e.g. `/appliance-notifier/clusters`. */
  readonly parameterPrefix: string;
  readonly eventBusName: string;
  readonly apiThrottle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** Tests only: pre-built code per function instead of esbuild bundles. */
  readonly functionCode?: Partial<Record<FunctionName, lambda.Code>>;
}

/**
 * The whole service: storage, the three functions, the admin API, the event bus with one rule
 * per condition, the daily schedule, the dead-letter queues, the alarms and the publisher policy.
 */
/**
 * The admin page's sign-in settings: the Cognito app client and hosted UI endpoints (created
 * with the API, after the function, hence lazy), or the external issuer and its first audience.
 */
function adminPageSignIn(auth: AdminAuthProps, api: () => AdminApi) {
  if (auth.kind === 'external') {
    return auth.audience[0] ? { ADMIN_PAGE_CLIENT_ID: auth.audience[0], ADMIN_PAGE_ISSUER: auth.issuer } : {};
  }
  const pool = () => {
    const created = api().userPool;
    if (!created) throw new Error('the Cognito user pool is missing');
    return created;
  };
  return {
    ADMIN_PAGE_CLIENT_ID: Lazy.string({ produce: () => pool().client.userPoolClientId }),
    ADMIN_PAGE_AUTHORIZATION_ENDPOINT: Lazy.string({
      produce: () => `${pool().hostedUiUrl}/oauth2/authorize`,
    }),
    ADMIN_PAGE_TOKEN_ENDPOINT: Lazy.string({ produce: () => `${pool().hostedUiUrl}/oauth2/token` }),
  };
}

export class NotifierStack extends Stack {
  readonly storage: Storage;
  readonly bus: events.EventBus;
  readonly adminApiFunction: NotifierFunction<typeof AdminApiEnvSchema>;
  readonly notifyFunction: NotifierFunction<typeof NotifyEnvSchema>;
  readonly dailyNoticeFunction: NotifierFunction<typeof DailyNoticeEnvSchema>;
  readonly adminApi: AdminApi;
  readonly eventRules: EventRules;
  readonly dailySchedule: DailySchedule;
  readonly deadLetterQueues: {
    readonly eventTarget: DeadLetterQueue;
    readonly notifyFailure: DeadLetterQueue;
    readonly dailyNotice: DeadLetterQueue;
  };
  readonly alarms: Alarms;
  readonly publisherPolicy: PublisherPolicy;

  constructor(scope: Construct, id: string, props: NotifierStackProps) {
    super(scope, id, props);
    const { removalPolicy, logRetention } = props;

    this.storage = new Storage(this, 'Storage', { parameterPrefix: props.parameterPrefix, removalPolicy });
    const { key, table } = this.storage;

    const sharedEnv = {
      CONFIG_PARAMETER_PREFIX: props.parameterPrefix,
      CONFIG_KMS_KEY_ID: key.keyArn,
      LEDGER_TABLE_NAME: table.tableName,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      ...(props.ses?.configurationSet ? { SES_CONFIGURATION_SET: props.ses.configurationSet } : {}),
    };
    const functionDefaults = (name: FunctionName) => ({
      entry: name,
      timeout: DEFAULT_FUNCTION_TIMEOUTS[name],
      logRetention,
      removalPolicy,
      ...(props.functionCode?.[name] ? { code: props.functionCode[name] } : {}),
    });

    this.adminApiFunction = new NotifierFunction(this, 'AdminApiFunction', {
      ...functionDefaults('adminApi'),
      description: 'appliance-notifier admin API: email configuration, test email, delivery log, OAuth',
      envSchema: AdminApiEnvSchema,
      environment: {
        ...sharedEnv,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAMES.adminApi,
        // The API is built after its function (it integrates it); the function only needs the
        // API's URL, which does not depend on the function, so a lazy value keeps it cycle-free.
        PUBLIC_BASE_URL: Lazy.string({ produce: () => this.adminApi.endpoint }),
        ...adminPageSignIn(props.auth, () => this.adminApi),
      },
    });
    this.notifyFunction = new NotifierFunction(this, 'NotifyFunction', {
      ...functionDefaults('notify'),
      description: 'appliance-notifier: emails one appliance event to its cluster admins',
      envSchema: NotifyEnvSchema,
      environment: {
        ...sharedEnv,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAMES.notify,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        // Longer than the function timeout (120 s): a slow send is never taken over by a redelivery.
        EVENT_LEASE_SECONDS: '300',
      },
    });
    this.dailyNoticeFunction = new NotifierFunction(this, 'DailyNoticeFunction', {
      ...functionDefaults('dailyNotice'),
      description: 'appliance-notifier: the daily "notifications still work" notice to every cluster',
      envSchema: DailyNoticeEnvSchema,
      environment: {
        ...sharedEnv,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAMES.dailyNotice,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
    });

    // Least privilege, per function. The admin API saves configurations; notify and the daily
    // notice only read them, except that the OAuth token refresh stores the rotated refresh token
    // that Microsoft returns (the old one stops working), hence PutParameter for them too.
    const grants = [
      [this.adminApiFunction, { read: true, write: true, list: false }],
      [this.notifyFunction, { read: true, write: true, list: false }],
      [this.dailyNoticeFunction, { read: true, write: true, list: true }],
    ] as const;
    for (const [fn, access] of grants) {
      for (const statement of [
        ...configStatements(this, props.parameterPrefix, key, access),
        ...ledgerStatements(this, table, key),
        ...(props.ses ? sesStatements(this, props.ses) : []),
      ]) {
        fn.role.addToPrincipalPolicy(statement);
      }
      Validations.of(fn.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArn(this, 'ssm', `parameter${props.parameterPrefix}/*`)}]`,
        reason: `One SecureString per cluster under ${props.parameterPrefix}/{clusterId}/email-config; clusters are created at run time by the admin API, so the prefix is the narrowest resource. KMS use is further bound to these parameters by the PARAMETER_ARN encryption context.`,
      });
    }

    this.deadLetterQueues = {
      eventTarget: new DeadLetterQueue(this, 'EventTargetDlq', {
        description: 'events EventBridge could not hand to the notify function',
      }),
      notifyFailure: new DeadLetterQueue(this, 'NotifyFailureDlq', {
        description: 'events the notify function failed on after its async retries',
      }),
      dailyNotice: new DeadLetterQueue(this, 'DailyNoticeDlq', {
        description: 'daily notice runs the scheduler could not start or the function failed on',
      }),
    };

    // Two retry layers, because each covers a different failure. EventBridge's retry policy and
    // target DLQ only cover failing to *invoke* (throttling, a missing permission, the service
    // unavailable): EventBridge invokes asynchronously, so once Lambda accepted the event, an
    // error thrown by the function is Lambda's to retry, per the function's async invoke config.
    // Without the on-failure destination such an event would be dropped after Lambda's retries.
    const asyncRetry = { retryAttempts: 2, maxEventAge: Duration.hours(6) };
    this.notifyFunction.function.configureAsyncInvoke({
      ...asyncRetry,
      onFailure: new destinations.SqsDestination(this.deadLetterQueues.notifyFailure.queue),
    });
    this.dailyNoticeFunction.function.configureAsyncInvoke({
      ...asyncRetry,
      onFailure: new destinations.SqsDestination(this.deadLetterQueues.dailyNotice.queue),
    });

    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: props.eventBusName,
      description: `Appliance events (${EVENT_SOURCE}) for appliance-notifier`,
    });
    // Keeps a month of appliance events, so a period of failed deliveries can be replayed.
    this.bus.archive('Archive', {
      description: `${EVENT_SOURCE} events, for replay`,
      eventPattern: { source: [EVENT_SOURCE] },
      retention: Duration.days(30),
    });

    this.eventRules = new EventRules(this, 'Rules', {
      bus: this.bus,
      target: this.notifyFunction.function,
      deadLetterQueue: this.deadLetterQueues.eventTarget.queue,
      retryAttempts: 185,
      maxEventAge: Duration.hours(24),
    });

    this.dailySchedule = new DailySchedule(this, 'DailyNotice', {
      target: this.dailyNoticeFunction.function,
      time: props.dailyNotice.time,
      timeZone: props.dailyNotice.timeZone,
      deadLetterQueue: this.deadLetterQueues.dailyNotice.queue,
      retryAttempts: 10,
      maxEventAge: Duration.hours(2),
    });

    this.adminApi = new AdminApi(this, 'AdminApi', {
      handler: this.adminApiFunction.function,
      auth: props.auth,
      throttle: props.apiThrottle,
      logRetention,
      removalPolicy,
    });

    this.alarms = new Alarms(this, 'Alarms', {
      key,
      ...(props.alarmEmail ? { email: props.alarmEmail } : {}),
      deadLetterQueues: {
        EventTargetDlq: this.deadLetterQueues.eventTarget.queue,
        NotifyFailureDlq: this.deadLetterQueues.notifyFailure.queue,
        DailyNoticeDlq: this.deadLetterQueues.dailyNotice.queue,
      },
      functions: {
        AdminApi: this.adminApiFunction.function,
        Notify: this.notifyFunction.function,
        DailyNotice: this.dailyNoticeFunction.function,
      },
      metrics: {
        namespace: METRICS_NAMESPACE,
        notifyService: SERVICE_NAMES.notify,
        dailyNoticeService: SERVICE_NAMES.dailyNotice,
      },
    });

    this.publisherPolicy = new PublisherPolicy(this, 'Publisher', { bus: this.bus });

    this.acknowledgeFindings();
    this.addOutputs(props);
  }

  private acknowledgeFindings(): void {
    for (const fn of [this.adminApiFunction, this.notifyFunction, this.dailyNoticeFunction]) {
      Validations.of(fn.function).acknowledge({
        id: 'AwsSolutions-L1',
        reason:
          'Pinned to Node.js 22 on purpose: the bundles target node22 and the tests run on it; moving to a newer runtime is a reviewed change, not a side effect of a CDK upgrade.',
      });
    }
  }

  private addOutputs(props: NotifierStackProps): void {
    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output('ApiUrl', `${this.adminApi.endpoint}/`, 'Admin API base URL');
    output(
      'OAuthRedirectUri',
      this.adminApi.oauthRedirectUri,
      'Redirect URI to register with Microsoft Entra ID / Google for SMTP OAuth2',
    );
    output('EventBusName', this.bus.eventBusName, 'Appliances put their events on this bus');
    output('EventBusArn', this.bus.eventBusArn, 'ARN of the appliance event bus');
    output(
      'PublisherPolicyArn',
      this.publisherPolicy.policy.managedPolicyArn,
      `Attach to an appliance's role: PutEvents on the bus with source ${EVENT_SOURCE} only`,
    );
    output(
      'NotifyFunctionName',
      this.notifyFunction.function.functionName,
      'npm run redrive re-invokes this',
    );
    output(
      'EventTargetDlqUrl',
      this.deadLetterQueues.eventTarget.queue.queueUrl,
      'Events EventBridge could not deliver to the notify function (the event itself)',
    );
    output(
      'NotifyFailureDlqUrl',
      this.deadLetterQueues.notifyFailure.queue.queueUrl,
      'Events the notify function failed on (Lambda invocation records; the event is requestPayload)',
    );
    output(
      'DailyNoticeDlqUrl',
      this.deadLetterQueues.dailyNotice.queue.queueUrl,
      'Daily notice runs that failed for good',
    );
    output('AlarmTopicArn', this.alarms.topic.topicArn, 'Every alarm publishes here');
    output('ConfigParameterPrefix', props.parameterPrefix, 'SSM path of the per-cluster configuration');
    output('DeliveryLogTableName', this.storage.table.tableName, 'DynamoDB table of the delivery log');
    const pool = this.adminApi.userPool;
    if (pool) {
      output('UserPoolId', pool.pool.userPoolId, 'Cognito user pool of the administrators');
      output('UserPoolClientId', pool.client.userPoolClientId, 'App client of the admin page (code + PKCE)');
      output('HostedUiDomain', pool.hostedUiUrl, 'Cognito hosted sign-in');
    }
  }
}
