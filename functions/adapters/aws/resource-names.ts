// Names the AWS adapters and the CDK stack must agree on: the ledger table's key schema, the
// actions the adapters call, and the configuration parameters' names. No SDK imports: lib/ reads
// them at synth time and the test support creates tables from them.

/**
 * The table's key schema and TTL attribute: the CDK construct that creates the table and the
 * test support that creates it in dynalite both read these, so the names cannot drift.
 */
export const LEDGER_TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt' } as const;

/**
 * Every action the ledger adapter, the OAuth state store and the OAuth grant store (same table)
 * call, for the functions' least-privilege policy on the table.
 */
export const DYNAMODB_LEDGER_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
] as const;

/** The stack's default `parameterPrefix` (context), and the tools' default `--prefix`. */
export const DEFAULT_CONFIG_PARAMETER_PREFIX = '/appliance-notifier/clusters';

/** A cluster's configuration is the SecureString `<CONFIG_PARAMETER_PREFIX>/<clusterId>/email-config`. */
export const CONFIG_PARAMETER_SUFFIX = 'email-config';

export function configParameterName(prefix: string, clusterId: string): string {
  return `${prefix}/${clusterId}/${CONFIG_PARAMETER_SUFFIX}`;
}

/**
 * A cluster's OAuth2 grant is an item in the ledger table: `GRANT#<clusterId>` / `OAUTH`. The
 * partition key prefix is what an IAM `dynamodb:LeadingKeys` condition can name.
 */
export const GRANT_PARTITION_PREFIX = 'GRANT#';
/** A cluster's audit trail: `AUDIT#<clusterId>` / `<iso time>#<id>` in the ledger table. */
export const AUDIT_PARTITION_PREFIX = 'AUDIT#';
export const GRANT_SORT_KEY = 'OAUTH';

export function grantKeyOf(clusterId: string): { pk: string; sk: string } {
  return {
    [LEDGER_TABLE_KEYS.partitionKey]: `${GRANT_PARTITION_PREFIX}${clusterId}`,
    [LEDGER_TABLE_KEYS.sortKey]: GRANT_SORT_KEY,
  } as {
    pk: string;
    sk: string;
  };
}

/**
 * A cluster's configuration history is in the ledger table too: `CONFIGV#<clusterId>` /
 * `V#<version, 10 digits>` per version, and `CONFIGV#<clusterId>` / `LASTTEST` for the last
 * test email. Zero-padded, so the sort key orders the versions.
 */
export const CONFIG_HISTORY_PARTITION_PREFIX = 'CONFIGV#';
