import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import { DEFAULT_CONFIG_PARAMETER_PREFIX } from '../functions/adapters/aws/resource-names.js';
import {
  parseAllowedRelayCidrs,
  parseAllowedRelayHosts,
} from '../functions/core/mail/relay-address-policy.js';
import { DEFAULT_FLEET_ADMIN_GROUP } from '../functions/kernel/admin-groups.js';
import { CLUSTER_ID_MESSAGE, CLUSTER_ID_PATTERN } from '../functions/kernel/cluster-id.js';
import type { AdminAuthProps } from './admin-api.js';
import { parseTimeOfDay } from './daily-schedule.js';
import { DEFAULT_SMTP_PORTS } from './network.js';
import type { NotifierStackProps } from './notifier-stack.js';

/** `cdk -c key=value` passes strings; cdk.json may hold real booleans and numbers. */
const text = z.string().trim().min(1);
const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v ? v : undefined));
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const count = z.coerce.number().int().positive();

/**
 * Every context key `bin/app.ts` reads (`cdk deploy -c sesIdentity=example.com ...`), validated
 * so a typo fails `cdk synth` with a message instead of deploying something else.
 */
export const StackContextSchema = z
  .object({
    stackName: text.default('ApplianceNotifier'),
    /**
     * The target account and region, always explicit for a real environment: the CLI's defaults
     * (whatever profile is active, and us-east-1 when none names a region) must never decide where
     * the data lives.
     */
    account: z
      .string()
      .regex(/^\d{12}$/, 'a 12-digit AWS account id')
      .optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-central-1')
      .optional(),
    /**
     * Synthesize without a real environment (tests, a look at the template): a dummy account and
     * region and placeholder tags stand in, and the app says so. Such a template is not deployable.
     */
    offline: flag.default(false),
    /** Tags on every resource (tag-policy SCPs deny untagged creates); required for a real environment. */
    project: text.default('appliance-notifier'),
    owner: optionalText,
    costCenter: optionalText,
    dataClassification: optionalText,
    /** The verified SES identity (domain or address); without it, only SMTP relays can send. */
    sesIdentity: optionalText,
    sesConfigurationSet: optionalText,
    alarmEmail: z
      .email()
      .optional()
      .or(z.literal('').transform(() => undefined)),
    dailyNoticeTime: text.default('08:00').refine((v) => {
      try {
        parseTimeOfDay(v);
        return true;
      } catch {
        return false;
      }
    }, 'must be HH:MM (24 h)'),
    timeZone: text.default('Europe/Berlin').refine((v) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: v });
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone such as Europe/Berlin'),
    /** An external OpenID issuer (Entra ID, Okta, ...) instead of the Cognito user pool. */
    jwtIssuer: z.url().optional(),
    /** Comma-separated audiences the external issuer's tokens carry. */
    jwtAudience: optionalText,
    /** The JWT group whose members administer every cluster (created in the Cognito user pool). */
    fleetAdminGroup: z
      .string()
      .regex(/^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u, 'a group name of 1 to 128 characters without spaces')
      .default(DEFAULT_FLEET_ADMIN_GROUP),
    /** Hosted UI prefix of the Cognito domain: globally unique per region. */
    cognitoDomainPrefix: z
      .string()
      .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'lowercase letters, digits and hyphens')
      .refine((v) => !/aws|amazon|cognito/.test(v), 'must not contain aws, amazon or cognito')
      .optional(),
    /**
     * Allow `http://localhost:3000/admin/` as a sign-in (and sign-out) URL of the app client, for
     * the page in development only: off by default, so a production user pool never sends an
     * authorization code to whatever listens on an administrator's localhost.
     */
    localhostCallback: flag.default(false),
    parameterPrefix: z
      .string()
      .regex(/^(\/[A-Za-z0-9_.-]+)+$/, 'an SSM path such as /appliance-notifier/clusters (no trailing slash)')
      .default(DEFAULT_CONFIG_PARAMETER_PREFIX),
    eventBusName: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,256}$/)
      .default('appliance-notifier'),
    /**
     * The clusters that get a publishing identity (a managed policy allowing PutEvents with source
     * `appliance.failover.<clusterId>` only), comma-separated or a JSON array in cdk.json.
     */
    publisherClusters: z
      .union([z.string().transform((v) => v.split(',')), z.array(z.string())])
      .transform((ids) => [...new Set(ids.map((id) => id.trim()).filter(Boolean))])
      .pipe(z.array(z.string().regex(CLUSTER_ID_PATTERN, `each cluster id ${CLUSTER_ID_MESSAGE}`)))
      .default([]),
    /** Also route, and offer a policy for, the plain `appliance.failover` source bound to no cluster. */
    legacyPublisher: flag.default(false),
    logRetentionDays: count.default(90),
    /** Days ahead of a credential's expiry that its health warns and the first warning email goes out. */
    credentialWarningDays: z.coerce
      .number({ error: 'must be a whole number of days between 1 and 90' })
      .int('must be a whole number of days between 1 and 90')
      .min(1, 'must be a whole number of days between 1 and 90')
      .max(90, 'must be a whole number of days between 1 and 90')
      .optional(),
    removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
    apiRateLimit: count.default(20),
    apiBurstLimit: count.default(40),
    /**
     * `lambda` (default): Lambda's own network, no VPC to pay for, but no fixed source address and
     * port 25 closed for good. `vpc`: private subnets behind a NAT gateway with an Elastic IP per
     * zone (fixed addresses to allowlist), VPC endpoints for the AWS APIs; see the README's cost.
     */
    egress: z
      .enum(['lambda', 'vpc'], {
        error:
          'must be "lambda" (the default: no VPC) or "vpc" (private subnets, NAT gateways with Elastic IPs)',
      })
      .default('lambda'),
    /** VPC mode: availability zones, one NAT gateway (and Elastic IP) each. */
    vpcAzs: z.coerce
      .number()
      .int()
      .min(1, 'at least 1 (2 or more survive the loss of a zone)')
      .max(3, 'at most 3')
      .optional(),
    /** VPC mode: the VPC's range, /16 to /20; one that does not overlap a network it may be connected to. */
    vpcCidr: z
      .string()
      .regex(
        /^(10|172|192)\.\d{1,3}\.\d{1,3}\.\d{1,3}\/(1[6-9]|20)$/,
        'a private IPv4 range from /16 to /20, such as 10.0.0.0/16',
      )
      .optional(),
    /** VPC mode: the TCP ports the functions may open to SMTP relays, comma-separated. */
    smtpPorts: z
      .string()
      .regex(/^\d{1,5}(,\d{1,5})*$/, 'comma-separated TCP ports such as 25,465,587')
      .transform((v) => [...new Set(v.split(',').map(Number))])
      .refine((ports) => ports.every((p) => p >= 1 && p <= 65535), 'ports are 1 to 65535')
      .optional(),
    /**
     * Private relays the functions may connect to (comma-separated CIDR ranges, such as
     * 10.0.0.0/8,192.168.1.0/24): without them, loopback and private relay addresses are refused.
     */
    allowedRelayCidrs: optionalText.transform((v, ctx) => {
      const parsed = parseAllowedRelayCidrs(v);
      if ('cidrs' in parsed) return parsed.cidrs.map((c) => c.text);
      ctx.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    }),
    /** Relay host names (comma-separated) that may resolve to private addresses, such as relay.corp.example. */
    allowedRelayHosts: optionalText.transform((v, ctx) => {
      const parsed = parseAllowedRelayHosts(v);
      if ('hosts' in parsed) return parsed.hosts;
      ctx.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    }),
    /**
     * A custom domain for the admin API (all four or none): the OAuth2 redirect URI registered
     * with Microsoft and Google, the admin page's sign-in URL and ApiUrl use it, so they survive
     * a replacement of the API. The ACM certificate must cover the name and be in the stack's
     * region (a regional API Gateway domain); the hosted zone gets the alias record.
     */
    domainName: z
      .string()
      .trim()
      .toLowerCase()
      .regex(
        /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
        'a DNS name such as notifier.example.com',
      )
      .optional(),
    certificateArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:acm:[a-z]{2}(-[a-z]+)+-\d:\d{12}:certificate\/[0-9a-f-]{36}$/,
        'an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)',
      )
      .optional(),
    hostedZoneId: z
      .string()
      .regex(/^Z[A-Z0-9]{1,31}$/, 'a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ')
      .optional(),
    hostedZoneName: z
      .string()
      .trim()
      .toLowerCase()
      .transform((v) => v.replace(/\.$/, ''))
      .pipe(
        z
          .string()
          .regex(/^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'a DNS zone such as example.com'),
      )
      .optional(),
  })
  .refine((c) => !c.jwtIssuer === !c.jwtAudience, {
    message: 'jwtIssuer and jwtAudience go together (an external issuer needs its audience)',
    path: ['jwtAudience'],
  })
  .superRefine((c, ctx) => {
    if (c.egress !== 'vpc') {
      for (const key of ['vpcAzs', 'vpcCidr', 'smtpPorts'] as const) {
        if (c[key] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'applies to VPC mode only: add -c egress=vpc, or drop it',
          });
        }
      }
    }
    const domainKeys = ['domainName', 'certificateArn', 'hostedZoneId', 'hostedZoneName'] as const;
    const missing = domainKeys.filter((k) => c[k] === undefined);
    if (missing.length > 0 && missing.length < domainKeys.length) {
      ctx.addIssue({
        code: 'custom',
        path: [missing[0] as string],
        message: `a custom domain needs all of -c ${domainKeys.join(', -c ')}; missing: ${missing.join(', ')}`,
      });
    }
    if (
      c.domainName &&
      c.hostedZoneName &&
      c.domainName !== c.hostedZoneName &&
      !c.domainName.endsWith(`.${c.hostedZoneName}`)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['domainName'],
        message: `${c.domainName} is not in the hosted zone ${c.hostedZoneName}`,
      });
    }
    const certificateRegion = c.certificateArn?.split(':')[3];
    const stackRegion = c.region ?? (c.offline ? OFFLINE_PLACEHOLDERS.region : undefined);
    if (certificateRegion && stackRegion && certificateRegion !== stackRegion) {
      ctx.addIssue({
        code: 'custom',
        path: ['certificateArn'],
        message: `the certificate is in ${certificateRegion}; a regional API domain needs one in the stack's region ${stackRegion}`,
      });
    }
    const given = (['account', 'region'] as const).filter((k) => c[k] !== undefined);
    if (c.offline) {
      if (given.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['offline'],
          message: `an offline synth uses a dummy account and region; drop -c offline=true to target -c ${given.join(' and -c ')}`,
        });
      }
      return;
    }
    const required = {
      account: '<12-digit account id>',
      region: '<region, e.g. eu-central-1>',
      owner: '<team or person accountable>',
      costCenter: '<cost center>',
      dataClassification: '<e.g. confidential>',
    } as const;
    for (const [key, example] of Object.entries(required) as Array<[keyof typeof required, string]>) {
      if (c[key] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `required for a real environment (-c ${key}=${example}); -c offline=true synthesizes with dummies instead`,
        });
      }
    }
  });
export type StackContext = z.output<typeof StackContextSchema>;

/** What an offline synth (`-c offline=true`) puts where a real environment needs real values. */
export const OFFLINE_PLACEHOLDERS = {
  account: '111111111111',
  region: 'eu-central-1',
  tag: 'offline-synth-placeholder',
  /** The VPC mode's zones: a real synth looks them up in the account, offline there is none. */
  availabilityZones: ['eu-central-1a', 'eu-central-1b', 'eu-central-1c'],
} as const;

/**
 * The context an offline synth needs besides the placeholders: the answer to the CDK's
 * availability-zone lookup (the VPC mode asks it), so no AWS call is attempted.
 */
export const OFFLINE_LOOKUPS = {
  [`availability-zones:account=${OFFLINE_PLACEHOLDERS.account}:region=${OFFLINE_PLACEHOLDERS.region}`]: [
    ...OFFLINE_PLACEHOLDERS.availabilityZones,
  ],
} as const;

const RETENTIONS = new Set<number>(
  Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number'),
);

/** Reads the context through `get` (e.g. `(k) => app.node.tryGetContext(k)`). */
export function stackPropsFromContext(
  get: (key: string) => unknown,
): NotifierStackProps & { stackName: string; offline: boolean } {
  const raw = Object.fromEntries(Object.keys(StackContextSchema.shape).map((k) => [k, get(k)]));
  const parsed = StackContextSchema.safeParse(raw);
  if (!parsed.success) {
    const text = parsed.error.issues.map((i) => `-c ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Invalid CDK context:\n${text}`);
  }
  const c = parsed.data;
  if (!RETENTIONS.has(c.logRetentionDays)) {
    throw new Error(
      `Invalid CDK context:\n-c logRetentionDays: CloudWatch Logs does not offer ${c.logRetentionDays} days (e.g. 30, 90, 365)`,
    );
  }

  const auth: AdminAuthProps & { fleetAdminGroup: string } = {
    fleetAdminGroup: c.fleetAdminGroup,
    ...(c.jwtIssuer && c.jwtAudience
      ? {
          kind: 'external',
          issuer: c.jwtIssuer,
          audience: c.jwtAudience
            .split(',')
            .map((a) => a.trim())
            .filter(Boolean),
        }
      : {
          kind: 'cognito',
          // The account id makes the default unique per account (resolved at deploy time).
          domainPrefix: c.cognitoDomainPrefix ?? `appliance-notifier-${Aws.ACCOUNT_ID}`,
          localCallbackUrls: c.localhostCallback ? ['http://localhost:3000/admin/'] : [],
        }),
  } as AdminAuthProps & { fleetAdminGroup: string };

  const placeholder = OFFLINE_PLACEHOLDERS.tag;
  return {
    stackName: c.stackName,
    offline: c.offline,
    env: {
      account: c.account ?? OFFLINE_PLACEHOLDERS.account,
      region: c.region ?? OFFLINE_PLACEHOLDERS.region,
    },
    resourceTags: {
      project: c.project,
      owner: c.owner ?? placeholder,
      'cost-center': c.costCenter ?? placeholder,
      'data-classification': c.dataClassification ?? placeholder,
    },
    description: 'appliance-notifier: email notifications for appliance failover clusters',
    ...(c.sesIdentity
      ? {
          ses: {
            identity: c.sesIdentity,
            ...(c.sesConfigurationSet ? { configurationSet: c.sesConfigurationSet } : {}),
          },
        }
      : {}),
    ...(c.alarmEmail ? { alarmEmail: c.alarmEmail } : {}),
    dailyNotice: { time: c.dailyNoticeTime, timeZone: c.timeZone },
    auth,
    parameterPrefix: c.parameterPrefix,
    eventBusName: c.eventBusName,
    publishers: { clusters: c.publisherClusters, legacySource: c.legacyPublisher },
    apiThrottle: { rateLimit: c.apiRateLimit, burstLimit: c.apiBurstLimit },
    egress:
      c.egress === 'vpc'
        ? {
            mode: 'vpc',
            azCount: c.vpcAzs ?? 2,
            // Offline there is no account to look the zones up in: the region's first ones by name.
            ...(c.offline
              ? { availabilityZones: OFFLINE_PLACEHOLDERS.availabilityZones.slice(0, c.vpcAzs ?? 2) }
              : {}),
            cidr: c.vpcCidr ?? '10.0.0.0/16',
            smtpPorts: c.smtpPorts ?? [...DEFAULT_SMTP_PORTS],
          }
        : { mode: 'lambda' },
    ...(c.domainName && c.certificateArn && c.hostedZoneId && c.hostedZoneName
      ? {
          customDomain: {
            domainName: c.domainName,
            certificateArn: c.certificateArn,
            hostedZoneId: c.hostedZoneId,
            hostedZoneName: c.hostedZoneName,
          },
        }
      : {}),
    ...(c.credentialWarningDays !== undefined ? { credentialWarningDays: c.credentialWarningDays } : {}),
    ...(c.allowedRelayCidrs.length > 0 || c.allowedRelayHosts.length > 0
      ? { allowedRelays: { cidrs: c.allowedRelayCidrs, hosts: c.allowedRelayHosts } }
      : {}),
    logRetention: c.logRetentionDays as logs.RetentionDays,
    removalPolicy: c.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  };
}
