import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type OAuthGrant, OAuthGrantSchema } from '../../core/config/stored-config.js';
import { GrantConflictError, type GrantStore, type VersionedGrant } from '../../core/oauth/grant-store.js';
import { checkedClusterId } from '../../kernel/cluster-id-schema.js';
import { parseStoredJson, ValidationError } from '../../kernel/field-issues.js';
import { isConditionalCheckFailed } from './dynamodb-ledger.js';
import { grantKeyOf, LEDGER_TABLE_KEYS } from './resource-names.js';

export interface DynamoDbGrantStoreOptions {
  /** A client of its own (the document client wrapper writes settings onto the client's config). */
  client: DynamoDBClient;
  /** The delivery ledger's table (generic `pk`/`sk`), encrypted with the stack's key. */
  tableName: string;
}

const { partitionKey: PK } = LEDGER_TABLE_KEYS;

/**
 * The OAuth2 grants in the ledger's table, one item per cluster (`GRANT#<clusterId>` /
 * `OAUTH`): DynamoDB, not SSM, because PutParameter has no compare-and-set and a refresh must
 * never overwrite a newer grant; here every write is conditional on the `version` attribute
 * read. The table is encrypted at rest with the stack's customer managed key, as the
 * SecureString parameters are, and has point-in-time recovery. Reads are strongly consistent:
 * a conditional write after an eventually consistent read would just conflict more often.
 */
export class DynamoDbGrantStore implements GrantStore {
  private readonly documents: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: DynamoDbGrantStoreOptions) {
    if (!options.tableName) throw new Error('DynamoDbGrantStore: tableName is required');
    this.documents = DynamoDBDocumentClient.from(options.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.tableName = options.tableName;
  }

  async get(clusterId: string): Promise<VersionedGrant | undefined> {
    const id = checkedClusterId(clusterId);
    const output = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: grantKeyOf(id), ConsistentRead: true }),
    );
    const item = output.Item;
    if (!item) return undefined;
    const where = `The OAuth2 grant item of cluster "${id}"`;
    if (typeof item.grant !== 'string' || typeof item.version !== 'number') {
      throw new Error(`${where} has no grant or version attribute`);
    }
    return { grant: parseStoredJson(item.grant, OAuthGrantSchema, where), version: item.version };
  }

  async put(clusterId: string, grant: OAuthGrant, expectedVersion: number | undefined): Promise<number> {
    const id = checkedClusterId(clusterId);
    const parsed = OAuthGrantSchema.safeParse(grant);
    if (!parsed.success)
      throw ValidationError.fromZod(parsed.error, 'Refusing to store an invalid OAuth2 grant');
    const version = (expectedVersion ?? 0) + 1;
    await conditionally(id, expectedVersion, () =>
      this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...grantKeyOf(id), clusterId: id, grant: JSON.stringify(parsed.data), version },
          ...(expectedVersion === undefined
            ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PK } }
            : versionIs(expectedVersion)),
        }),
      ),
    );
    return version;
  }

  async delete(clusterId: string, expectedVersion: number): Promise<void> {
    const id = checkedClusterId(clusterId);
    await conditionally(id, expectedVersion, () =>
      this.documents.send(
        new DeleteCommand({ TableName: this.tableName, Key: grantKeyOf(id), ...versionIs(expectedVersion) }),
      ),
    );
  }
}

/** Runs a conditional write; a failed condition is a GrantConflictError. */
async function conditionally(
  id: string,
  expectedVersion: number | undefined,
  write: () => Promise<unknown>,
): Promise<void> {
  try {
    await write();
  } catch (error) {
    if (isConditionalCheckFailed(error)) throw new GrantConflictError(id, expectedVersion);
    throw error;
  }
}

/** The condition that the item is at `expected`. */
function versionIs(expected: number) {
  return {
    ConditionExpression: '#version = :expected',
    ExpressionAttributeNames: { '#version': 'version' },
    ExpressionAttributeValues: { ':expected': expected },
  };
}
