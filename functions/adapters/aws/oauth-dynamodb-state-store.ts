import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { OAuthStateRecord, OAuthStateStore } from '../../core/oauth/oauth-ports.js';
import { isConditionalCheckFailed } from './dynamodb-ledger.js';
import { LEDGER_TABLE_KEYS } from './resource-names.js';

export interface DynamoDbOAuthStateStoreOptions {
  /** A client of its own (the document client wrapper writes settings onto the client's config). */
  client: DynamoDBClient;
  /** The delivery ledger's table (generic `pk`/`sk`, TTL on `expiresAt`). */
  tableName: string;
}

const { partitionKey: PK, sortKey: SK, ttlAttribute: TTL } = LEDGER_TABLE_KEYS;

/**
 * Pending authorizations in the ledger's table: `OAUTH#<state>` / `STATE`, with the TTL
 * attribute so DynamoDB removes abandoned ones. `take` is one conditional DeleteItem that
 * returns the old item: of two concurrent callbacks with one state, only one gets it.
 */
export class DynamoDbOAuthStateStore implements OAuthStateStore {
  private readonly documents: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: DynamoDbOAuthStateStoreOptions) {
    if (!options.tableName) throw new Error('DynamoDbOAuthStateStore: tableName is required');
    this.documents = DynamoDBDocumentClient.from(options.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.tableName = options.tableName;
  }

  async put(record: OAuthStateRecord): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...keyOf(record.state),
          record: JSON.stringify(record),
          clusterId: record.clusterId,
          // TTL is in epoch seconds; DynamoDB deletes late, so `take`'s caller checks expiry itself.
          [TTL]: Math.ceil(record.expiresAt / 1000),
        },
        // 256 random bits never collide; a collision would mean a bug, not bad luck.
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK },
      }),
    );
  }

  async take(state: string): Promise<OAuthStateRecord | undefined> {
    try {
      const output = await this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keyOf(state),
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const raw = output.Attributes?.record;
      if (typeof raw !== 'string') return undefined;
      const record = JSON.parse(raw) as OAuthStateRecord;
      return record.state === state ? record : undefined;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }
}

function keyOf(state: string) {
  return { [PK]: `OAUTH#${state}`, [SK]: 'STATE' };
}
