import {
  CfnOutput,
  Duration,
  Fn,
  Lazy,
  type RemovalPolicy,
  Stack,
  type StackProps,
  Tags,
  Token,
  Validations,
} from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { EVENT_SOURCE } from '../events/catalog.js';
import { cdkValues, sourcePattern } from '../events/event-pattern.js';
import { publisherSource } from '../events/publisher-source.js';
import { AdminApiEnvSchema } from '../functions/admin-api/env.js';
import { DailyNoticeEnvSchema } from '../functions/daily-notice/env.js';
import { NotifyEnvSchema } from '../functions/notify/env.js';
import { AdminApi, type AdminAuthProps, type CustomDomainProps, fleetAdminGroupOf } from './admin-api.js';
import { Alarms } from './alarms.js';
import type { FunctionName } from './bundling.js';
import { DailySchedule } from './daily-schedule.js';
import { Dashboard } from './dashboard.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { EventRules } from './event-rules.js';
import { type EgressProps, Network } from './network.js';
import { DEFAULT_FUNCTION_TIMEOUTS, NotifierFunction } from './notifier-function.js';
import { NotifyQueue } from './notify-queue.js';
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

/**
 * The tags every resource carries (tag-policy SCPs deny untagged creates): applied to the stack,
 * so to each taggable resource in the template and to the CloudFormation stack itself.
 */
export interface ResourceTags {
  readonly project: string;
  readonly owner: string;
  readonly 'cost-center': string;
  readonly 'data-classification': string;
}

export interface NotifierStackProps extends StackProps {
  /** Always explicit: see `account` and `region` in lib/stack-config.ts. */
  readonly env: { readonly account: string; readonly region: string };
  readonly resourceTags: ResourceTags;
  /** SES identity (domain or address) the functions may send as; SMTP relays only when absent. */
  readonly ses?: SesSending;
  /** Alarm notifications by email (confirmed once by the recipient). */
  readonly alarmEmail?: string;
  readonly dailyNotice: { readonly time: string; readonly timeZone: string };
  readonly auth: AdminAuthProps & { readonly fleetAdminGroup?: string };
  /** SSM path of the configuration parameters, e.g. `/appliance-notifier/clusters`. */
  readonly parameterPrefix: string;
  readonly eventBusName: string;
  /** Per-cluster publishing identities, and whether the plain legacy source is still routed. */
  readonly publishers?: { readonly clusters: readonly string[]; readonly legacySource: boolean };
  readonly apiThrottle: { readonly rateLimit: number; readonly burstLimit: number };
  /** Lambda's own network (default), or VPC mode with fixed egress addresses (lib/network.ts). */
  readonly egress: EgressProps;
  /**
   * Private relays the functions may connect to (`-c allowedRelayCidrs`, `-c allowedRelayHosts`);
   * public relay addresses only without it.
   */
  readonly allowedRelays?: { readonly cidrs: readonly string[]; readonly hosts: readonly string[] };
  /** Days ahead of a credential's expiry that warnings start (CREDENTIAL_WARNING_DAYS); the service's 14 when absent. */
  readonly credentialWarningDays?: number;
  /** The admin API's own domain name (lib/admin-api.ts); the execute-api URL otherwise. */
  readonly customDomain?: CustomDomainProps;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** Tests only: pre-built code per function instead of esbuild bundles. */
  readonly functionCode?: Partial<Record<FunctionName, lambda.Code>>;
}

/**
 * The whole service: storage, the three functions, the admin API, the event bus with one rule
 * per condition, the queue in front of notify, the daily schedule, the dead-letter queues, the
 * alarms and the publisher policy.
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
  /** VPC mode only. */
  readonly network?: Network;
  readonly bus: events.EventBus;
  readonly adminApiFunction: NotifierFunction<typeof AdminApiEnvSchema>;
  readonly notifyFunction: NotifierFunction<typeof NotifyEnvSchema>;
  readonly dailyNoticeFunction: NotifierFunction<typeof DailyNoticeEnvSchema>;
  readonly adminApi: AdminApi;
  readonly eventRules: EventRules;
  readonly notifyQueue: NotifyQueue;
  readonly notifyEventSource: SqsEventSource;
  readonly dailySchedule: DailySchedule;
  readonly deadLetterQueues: {
    readonly eventTarget: DeadLetterQueue;
    readonly dailyNotice: DeadLetterQueue;
  };
  readonly alarms: Alarms;
  readonly dashboard: Dashboard;
  readonly publisherPolicy: PublisherPolicy;

  constructor(scope: Construct, id: string, props: NotifierStackProps) {
    super(scope, id, props);
    const { removalPolicy, logRetention } = props;
    const legacySource = props.publishers?.legacySource ?? false;
    for (const [key, value] of Object.entries(props.resourceTags)) Tags.of(this).add(key, value);

    this.storage = new Storage(this, 'Storage', { parameterPrefix: props.parameterPrefix, removalPolicy });
    const { key, table } = this.storage;

    if (props.egress.mode === 'vpc') {
      this.network = new Network(this, 'Network', {
        azCount: props.egress.azCount,
        ...(props.egress.availabilityZones ? { availabilityZones: props.egress.availabilityZones } : {}),
        cidr: props.egress.cidr,
        smtpPorts: props.egress.smtpPorts,
        sesEndpoint: props.ses !== undefined,
        logRetention,
        removalPolicy,
      });
    }
    const network = this.network;

    const sharedEnv = {
      EGRESS_MODE: props.egress.mode,
      CONFIG_PARAMETER_PREFIX: props.parameterPrefix,
      CONFIG_KMS_KEY_ID: key.keyArn,
      LEDGER_TABLE_NAME: table.tableName,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      ...(props.ses?.configurationSet ? { SES_CONFIGURATION_SET: props.ses.configurationSet } : {}),
      ...(props.credentialWarningDays !== undefined
        ? { CREDENTIAL_WARNING_DAYS: String(props.credentialWarningDays) }
        : {}),
      ...(props.allowedRelays?.cidrs.length
        ? { RELAY_ALLOWED_CIDRS: props.allowedRelays.cidrs.join(',') }
        : {}),
      ...(props.allowedRelays?.hosts.length
        ? { RELAY_ALLOWED_HOSTS: props.allowedRelays.hosts.join(',') }
        : {}),
    };
    const functionDefaults = (name: FunctionName) => ({
      entry: name,
      timeout: DEFAULT_FUNCTION_TIMEOUTS[name],
      logRetention,
      removalPolicy,
      ...(network
        ? {
            network: {
              vpc: network.vpc,
              subnets: network.functionSubnets,
              securityGroups: [network.functionSecurityGroup],
            },
          }
        : {}),
      ...(props.functionCode?.[name] ? { code: props.functionCode[name] } : {}),
    });

    // Created before the functions that are told its URL: notify (its consumer) and the admin API (replay).
    const eventLeaseSeconds = 300;
    this.notifyQueue = new NotifyQueue(this, 'NotifyQueue', {
      consumerTimeout: DEFAULT_FUNCTION_TIMEOUTS.notify,
      eventLease: Duration.seconds(eventLeaseSeconds),
      removalPolicy,
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
        FLEET_ADMIN_GROUP: fleetAdminGroupOf(props.auth),
        EVENT_QUEUE_URL: this.notifyQueue.queue.queueUrl,
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
        // Longer than the function timeout (120 s): a slow send is never taken over by a
        // redelivery. Shorter than the queue's visibility timeout (720 s): the redelivery of an
        // invocation that timed out finds the claim expired.
        EVENT_LEASE_SECONDS: String(eventLeaseSeconds),
        EVENT_QUEUE_URL: this.notifyQueue.queue.queueUrl,
        EVENT_DLQ_URL: this.notifyQueue.deadLetterQueue.queue.queueUrl,
        // The emails link the cluster on the admin page.
        PUBLIC_BASE_URL: Lazy.string({ produce: () => this.adminApi.endpoint }),
      },
    });
    this.notifyEventSource = this.notifyQueue.addConsumer(this.notifyFunction.alias);
    this.dailyNoticeFunction = new NotifierFunction(this, 'DailyNoticeFunction', {
      ...functionDefaults('dailyNotice'),
      description: 'appliance-notifier: the daily "notifications still work" notice to every cluster',
      envSchema: DailyNoticeEnvSchema,
      environment: {
        ...sharedEnv,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAMES.dailyNotice,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        PUBLIC_BASE_URL: Lazy.string({ produce: () => this.adminApi.endpoint }),
      },
    });

    // Least privilege, per function. Only the admin API saves and deletes configurations, and it
    // lists them for the fleet overview (GET /clusters); notify and the daily notice read them. The OAuth2 grant (the refresh token a token refresh rotates) is an item in
    // the table (DynamoDbGrantStore, conditional writes), so its writers need no PutParameter.
    const grants = [
      [this.adminApiFunction, { read: true, write: true, list: true, delete: true }],
      [this.notifyFunction, { read: true, write: false, list: false }],
      [this.dailyNoticeFunction, { read: true, write: false, list: true }],
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

    // The replay of a failed event (POST .../deliveries/{eventId}/replay) sends its envelope to
    // notify's queue. SendMessage only; the queue's SQS-managed encryption needs no KMS grant.
    this.adminApiFunction.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.notifyQueue.queue.queueArn] }),
    );

    this.deadLetterQueues = {
      eventTarget: new DeadLetterQueue(this, 'EventTargetDlq', {
        description: 'events EventBridge could not send to the notify queue',
        removalPolicy,
      }),
      dailyNotice: new DeadLetterQueue(this, 'DailyNoticeDlq', {
        description: 'daily notice runs the scheduler could not start or the function failed on',
        removalPolicy,
      }),
    };

    // The daily notice is invoked asynchronously by the scheduler, so two retry layers. The
    // schedule's retry policy and DLQ cover only failing to invoke (throttled, not permitted).
    // Once Lambda accepted the event, a failed run (the handler rejects when a cluster failed
    // temporarily, after serving the others, or the function times out) is retried by Lambda
    // twice, with the same event and request id, then the event goes to the on-failure
    // destination. The day's claim per cluster keeps a retry from resending a notice that went
    // out. (notify has neither: its event source mapping invokes it synchronously, and the queue
    // retries and dead-letters its events.)
    // On the alias: the schedule invokes the alias, and an unqualified function's settings do not
    // apply to a qualified invocation.
    this.dailyNoticeFunction.alias.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new destinations.SqsDestination(this.deadLetterQueues.dailyNotice.queue),
    });

    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: props.eventBusName,
      description: `Appliance events (${EVENT_SOURCE}) for appliance-notifier`,
    });
    // Keeps a month of appliance events, so a period of failed deliveries can be replayed. Kept
    // (removalPolicy=retain) when the stack goes: a replay goes to the archive's source bus, and a
    // new stack's bus of the same name has the same ARN.
    this.bus
      .archive('Archive', {
        description: `${EVENT_SOURCE} events, for replay`,
        eventPattern: {
          source: cdkValues(sourcePattern({ legacySource }), (value) => events.Match.prefix(value)),
        },
        retention: Duration.days(30),
      })
      .applyRemovalPolicy(removalPolicy);

    // EventBridge retries sending to the queue for a day (SQS unavailable, a policy not yet in
    // place), then keeps the event in the target DLQ.
    this.eventRules = new EventRules(this, 'Rules', {
      bus: this.bus,
      queue: this.notifyQueue.queue,
      deadLetterQueue: this.deadLetterQueues.eventTarget.queue,
      retryAttempts: 185,
      maxEventAge: Duration.hours(24),
      legacySource,
    });

    this.dailySchedule = new DailySchedule(this, 'DailyNotice', {
      target: this.dailyNoticeFunction.alias,
      time: props.dailyNotice.time,
      timeZone: props.dailyNotice.timeZone,
      deadLetterQueue: this.deadLetterQueues.dailyNotice.queue,
      retryAttempts: 10,
      maxEventAge: Duration.hours(2),
    });

    this.adminApi = new AdminApi(this, 'AdminApi', {
      handler: this.adminApiFunction.alias,
      auth: props.auth,
      ...(props.customDomain ? { customDomain: props.customDomain } : {}),
      throttle: props.apiThrottle,
      logRetention,
      removalPolicy,
    });

    this.alarms = new Alarms(this, 'Alarms', {
      key,
      ...(props.alarmEmail ? { email: props.alarmEmail } : {}),
      deadLetterQueues: {
        EventTargetDlq: this.deadLetterQueues.eventTarget.queue,
        NotifyQueueDlq: this.notifyQueue.deadLetterQueue.queue,
        DailyNoticeDlq: this.deadLetterQueues.dailyNotice.queue,
      },
      eventQueue: this.notifyQueue.queue,
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
      bus: this.bus,
      table,
      apiStage: this.adminApi.stage,
      ses: props.ses !== undefined,
    });

    this.dashboard = new Dashboard(this, 'Operations', {
      eventQueue: this.notifyQueue.queue,
      bus: this.bus,
      deadLetterQueues: {
        EventTargetDlq: this.deadLetterQueues.eventTarget.queue,
        NotifyQueueDlq: this.notifyQueue.deadLetterQueue.queue,
        DailyNoticeDlq: this.deadLetterQueues.dailyNotice.queue,
      },
      functions: {
        AdminApi: this.adminApiFunction.function,
        Notify: this.notifyFunction.function,
        DailyNotice: this.dailyNoticeFunction.function,
      },
      apiStage: this.adminApi.stage,
      alarms: this.alarms.alarms,
      metrics: {
        namespace: METRICS_NAMESPACE,
        notifyService: SERVICE_NAMES.notify,
        dailyNoticeService: SERVICE_NAMES.dailyNotice,
      },
    });

    this.publisherPolicy = new PublisherPolicy(this, 'Publisher', {
      bus: this.bus,
      clusters: props.publishers?.clusters ?? [],
      legacySource,
    });

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
    if (this.network) {
      const zones = this.network.availabilityZones;
      for (const [i, eip] of this.network.natEips.entries()) {
        output(
          `NatEgressIp${i + 1}`,
          eip.attrPublicIp,
          `Elastic IP of the NAT gateway in ${zones[i] ?? `zone ${i + 1}`}: the functions' source address for relays and connectors to allowlist`,
        );
      }
      output(
        'NatEgressIps',
        Fn.join(
          ',',
          this.network.natEips.map((eip) => eip.attrPublicIp),
        ),
        'Every address the functions connect from (comma-separated), for allowlists and a port 25 request',
      );
    }
    output('EventBusName', this.bus.eventBusName, 'Appliances put their events on this bus');
    output('EventBusArn', this.bus.eventBusArn, 'ARN of the appliance event bus');
    [...this.publisherPolicy.clusterPolicies].forEach(([clusterId, policy], index) => {
      output(
        `PublisherPolicyArn${index + 1}`,
        policy.managedPolicyArn,
        `Cluster ${clusterId}: attach to its appliances' role; PutEvents with source ${publisherSource(clusterId)} only`,
      );
    });
    if (this.publisherPolicy.legacyPolicy) {
      output(
        'PublisherPolicyArn',
        this.publisherPolicy.legacyPolicy.managedPolicyArn,
        `Legacy (-c legacyPublisher=true): PutEvents with source ${EVENT_SOURCE} for any cluster`,
      );
    }
    output('NotifyFunctionName', this.notifyFunction.function.functionName, 'Consumes the notify queue');
    output(
      'NotifyQueueUrl',
      this.notifyQueue.queue.queueUrl,
      'The queue every rule sends events to; npm run redrive sends dead-lettered events back here',
    );
    output(
      'NotifyQueueDlqUrl',
      this.notifyQueue.deadLetterQueue.queue.queueUrl,
      'Events notify did not finish after every attempt (the event itself)',
    );
    output(
      'EventTargetDlqUrl',
      this.deadLetterQueues.eventTarget.queue.queueUrl,
      'Events EventBridge could not send to the notify queue (the event itself)',
    );
    output(
      'DailyNoticeDlqUrl',
      this.deadLetterQueues.dailyNotice.queue.queueUrl,
      'Daily notice runs that failed for good',
    );
    output('AlarmTopicArn', this.alarms.topic.topicArn, 'Every alarm publishes here');
    output('DashboardUrl', this.dashboard.url, 'CloudWatch dashboard of the service');
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
