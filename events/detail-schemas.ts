import { isIP } from 'node:net';
import * as z from 'zod';
import { ClusterIdSchema } from '../functions/kernel/cluster-id-schema.js';
import { CONTROL_CHARACTER_MESSAGE, hasControlCharacters } from '../functions/kernel/header-safety.js';

// Everything in a detail can end up in a subject line, a header or the body of an email that an
// admin reads at night, so every string is bounded, and a control character is rejected with the
// one message the envelope validator recognises as a header-injection attempt (checked first and
// aborting, so that message is not buried under format errors of the same value).

// "is required" reads better in a rejection reason than "expected string, received undefined".
// Unknown keys keep their own issue, which `issuesFromZod` reports at each key's path.
const expected = (what: string) => (issue: { code?: string; input?: unknown }) =>
  issue.code === 'unrecognized_keys'
    ? undefined
    : issue.input === undefined
      ? 'is required'
      : `must be ${what}`;

const noControlCharacters = (schema: z.ZodString) =>
  schema.refine((s) => !hasControlCharacters(s), { error: CONTROL_CHARACTER_MESSAGE, abort: true });
const text = () => noControlCharacters(z.string({ error: expected('a string') }));

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOSTNAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*\\.?$`);

export const HostnameSchema = text()
  .max(253, 'must be at most 253 characters')
  .regex(HOSTNAME, 'must be a hostname like pra-01.example.com');

export const IpAddressSchema = text()
  .max(45, 'must be at most 45 characters')
  .refine((s) => isIP(s) !== 0, 'must be an IPv4 or IPv6 address');

/** `24.3.2`, `24.3.2-1187`, `7.0 (build 20)`: enough for product versions, nothing header-hostile. */
export const VersionSchema = text()
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._+~()-]*$/, 'must be a product version like 24.3.2');

/** Linux (`eth0`, `ens5`, `eth0:1`, `bond0.100`) and appliance UI names (`Ethernet 1`). */
export const InterfaceNameSchema = text()
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9 _.:@/-]*$/, 'must be a network interface name like eth0');

/** ISO 8601 with `Z` or an offset: appliances in other time zones report local offsets. */
export const DateTimeSchema = z.iso.datetime({
  offset: true,
  error: expected('an ISO 8601 date and time with Z or an offset, like 2026-11-28T18:06:51Z'),
});

// Besides C0/C1 controls: format characters (bidi overrides can make an error text read as
// something else), private-use, unassigned code points and lone surrogates.
const NON_PRINTABLE = /[\p{C}\u2028\u2029]/u;

/** Free text from an appliance (an error message): one printable line, trimmed. */
export const singleLineText = (max: number) =>
  text()
    .refine((s) => !NON_PRINTABLE.test(s), 'must contain printable characters only')
    .transform((s) => s.trim())
    .pipe(z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`));

/** Whole seconds, bounded so a garbled value cannot render as "317 years". */
export const secondsSchema = (max: number) =>
  z
    .number({ error: expected('a number of seconds') })
    .int('must be a whole number of seconds')
    .min(0, 'must not be negative')
    .max(max, `must be at most ${max} seconds`);

export const MAX_TEST_IPS = 32;

export const TestIpsSchema = z
  .array(IpAddressSchema, { error: expected('an array of IP addresses') })
  .min(1, 'must name at least one test IP')
  .max(MAX_TEST_IPS, `must name at most ${MAX_TEST_IPS} test IPs`);

export const APPLIANCE_ROLES = ['primary', 'backup', 'traffic'] as const;
export type ApplianceRole = (typeof APPLIANCE_ROLES)[number];

export const ApplianceSchema = z.strictObject(
  {
    hostname: HostnameSchema,
    role: z.enum(APPLIANCE_ROLES, { error: expected('one of primary, backup, traffic') }),
    version: VersionSchema,
  },
  { error: expected('an object with hostname, role and version') },
);
export type Appliance = z.infer<typeof ApplianceSchema>;

/** The fields every condition's detail carries; spread into each condition's strict object. */
export const commonDetailShape = {
  /** Selects the cluster's email configuration; absent means `default` (see `clusterIdOf`). */
  clusterId: ClusterIdSchema.optional(),
  /** The appliance that observed the condition and sent the event. */
  appliance: ApplianceSchema,
  observedAt: DateTimeSchema,
};

export const CommonDetailSchema = z.strictObject(commonDetailShape);
export type CommonDetail = z.infer<typeof CommonDetailSchema>;

// ---------------------------------------------------------------------------------------------
// Each condition's own facts
// ---------------------------------------------------------------------------------------------

const WEEK = 7 * 24 * 3600;
const YEAR = 366 * 24 * 3600;

export const VersionMismatchDetailSchema = z.strictObject({
  ...commonDetailShape,
  primaryVersion: VersionSchema,
  backupVersion: VersionSchema,
  primaryHostname: HostnameSchema.optional(),
  backupHostname: HostnameSchema.optional(),
  /** The failover operation that noticed it, e.g. `data sync` or `status check`. */
  operation: singleLineText(100).optional(),
});

export const SharedIpInterfaceDisabledDetailSchema = z.strictObject({
  ...commonDetailShape,
  sharedIp: IpAddressSchema,
  interface: InterfaceNameSchema,
});

export const SharedIpNotAssignedDetailSchema = z.strictObject({
  ...commonDetailShape,
  sharedIp: IpAddressSchema,
  /** What /appliance does list: shows the admin at a glance which address is missing. */
  applianceIps: z
    .array(IpAddressSchema, { error: expected('an array of IP addresses') })
    .max(64, 'must list at most 64 addresses')
    .optional(),
});

export const PrimaryAndTestIpsUnreachableDetailSchema = z.strictObject({
  ...commonDetailShape,
  primaryHostname: HostnameSchema,
  testIps: TestIpsSchema,
});

export const TestIpsUnreachableDetailSchema = z.strictObject({
  ...commonDetailShape,
  testIps: TestIpsSchema,
});

export const BackupOperationsDisabledDetailSchema = z.strictObject({
  ...commonDetailShape,
  disabledAt: DateTimeSchema.optional(),
  /** The admin account that switched them off, when the appliance knows it. */
  disabledBy: singleLineText(128).optional(),
});

export const SelfCheckFailedDetailSchema = z.strictObject({
  ...commonDetailShape,
  error: singleLineText(1000),
});

export const PrimaryHostnameUnreachableDetailSchema = z.strictObject({
  ...commonDetailShape,
  primaryHostname: HostnameSchema,
  /** Absent when the name did not resolve at all: that alone points at DNS. */
  resolvedIp: IpAddressSchema.optional(),
});

export const PrimaryCheckFailedDetailSchema = z.strictObject({
  ...commonDetailShape,
  primaryHostname: HostnameSchema,
  lastContactAt: DateTimeSchema.optional(),
});

export const PromotionPendingDetailSchema = z.strictObject({
  ...commonDetailShape,
  primaryHostname: HostnameSchema,
  secondsUntilPromotion: secondsSchema(WEEK),
  lastContactAt: DateTimeSchema.optional(),
});

export const BackupPromotedDetailSchema = z.strictObject({
  ...commonDetailShape,
  previousPrimaryHostname: HostnameSchema,
  silentForSeconds: secondsSchema(YEAR),
  promotedAt: DateTimeSchema,
});

export const DataSyncStaleDetailSchema = z.strictObject({
  ...commonDetailShape,
  backupHostname: HostnameSchema,
  lastSuccessfulSyncAt: DateTimeSchema,
});
