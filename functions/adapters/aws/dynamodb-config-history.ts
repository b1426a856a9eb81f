import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  APPEND_ATTEMPTS,
  type AppendOptions,
  CONFIG_HISTORY_LIMIT,
  type ConfigHistory,
  type ConfigVersion,
  ConfigVersionConflictError,
  type NewConfigVersion,
  parseConfigVersion,
  parseTestSummary,
  type TestEmailSummary,
  TestEmailSummarySchema,
} from '../../core/config/config-history.js';
import { StoredEmailConfigSchema } from '../../core/config/stored-config.js';
import { checkedClusterId } from '../../kernel/cluster-id-schema.js';
import { isConditionalCheckFailed } from './dynamodb-ledger.js';
import { CONFIG_HISTORY_PARTITION_PREFIX, LEDGER_TABLE_KEYS } from './resource-names.js';

export interface DynamoDbConfigHistoryOptions {
  client: DynamoDBClient;
  /** The delivery log's table (generic `pk`/`sk`), encrypted with the stack's key. */
  tableName: string;
  limit?: number;
}

const { partitionKey: PK, sortKey: SK } = LEDGER_TABLE_KEYS;
const VERSION_PREFIX = 'V#';
const LAST_TEST = 'LASTTEST';

type Item = Record<string, unknown>;

/**
 * The configuration history in the ledger's table (not SSM's parameter history: that keeps 100
 * versions with no record of who saved or whether the test email went out, and a deleted
 * parameter loses it). A version is a conditional put (`attribute_not_exists`) on its number, so
 * of two concurrent saves that read the same newest version one retries with the next number.
 * The documents hold secrets; the table is encrypted with the stack's customer managed key.
 */
export class DynamoDbConfigHistory implements ConfigHistory {
  private readonly documents: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly limit: number;

  constructor(options: DynamoDbConfigHistoryOptions) {
    if (!options.tableName) throw new Error('DynamoDbConfigHistory: tableName is required');
    this.documents = DynamoDBDocumentClient.from(options.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.tableName = options.tableName;
    this.limit = options.limit ?? CONFIG_HISTORY_LIMIT;
  }

  async append(entry: NewConfigVersion, options: AppendOptions = {}): Promise<ConfigVersion> {
    const id = checkedClusterId(entry.clusterId);
    const { oauth: _grant, ...document } = StoredEmailConfigSchema.parse(entry.document);
    const clean = { ...entry, document };
    for (let attempt = 1; ; attempt++) {
      // With `after`, the conditional put on its successor is the whole check: no read needed.
      const newest = options.after === undefined ? (await this.queryVersions(id, 1, false))[0] : undefined;
      const version = (options.after ?? (newest ? numberOf(newest) : 0)) + 1;
      try {
        await this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              [PK]: partition(id),
              [SK]: sortKey(version),
              clusterId: id,
              version,
              savedAt: clean.savedAt,
              savedBy: clean.savedBy,
              restoredFrom: clean.restoredFrom,
              document: JSON.stringify(document),
              testEmail: clean.testEmail ? JSON.stringify(clean.testEmail) : undefined,
            },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          }),
        );
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
        if (options.after !== undefined || attempt >= APPEND_ATTEMPTS) {
          throw new ConfigVersionConflictError(id, version);
        }
        continue;
      }
      await this.prune(id, version - this.limit);
      return { ...clean, version };
    }
  }

  async list(clusterId: string, limit = this.limit): Promise<ConfigVersion[]> {
    const id = checkedClusterId(clusterId);
    const items = await this.queryVersions(id, Math.max(0, Math.floor(limit)), false);
    return items.map((item) => fromItem(item));
  }

  async get(clusterId: string, version: number): Promise<ConfigVersion | undefined> {
    const id = checkedClusterId(clusterId);
    if (!Number.isInteger(version) || version < 1) return undefined;
    const output = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [PK]: partition(id), [SK]: sortKey(version) },
        ConsistentRead: true,
      }),
    );
    return output.Item ? fromItem(output.Item) : undefined;
  }

  async setTest(clusterId: string, version: number, test: TestEmailSummary): Promise<boolean> {
    const id = checkedClusterId(clusterId);
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: partition(id), [SK]: sortKey(version) },
          UpdateExpression: 'SET #test = :test',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#test': 'testEmail', '#pk': PK },
          ExpressionAttributeValues: { ':test': JSON.stringify(TestEmailSummarySchema.parse(test)) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async putLastTest(clusterId: string, test: TestEmailSummary): Promise<void> {
    const id = checkedClusterId(clusterId);
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          [PK]: partition(id),
          [SK]: LAST_TEST,
          clusterId: id,
          testEmail: JSON.stringify(TestEmailSummarySchema.parse(test)),
        },
      }),
    );
  }

  async lastTest(clusterId: string): Promise<TestEmailSummary | undefined> {
    const id = checkedClusterId(clusterId);
    const output = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { [PK]: partition(id), [SK]: LAST_TEST } }),
    );
    const text = output.Item?.testEmail;
    return typeof text === 'string'
      ? parseTestSummary(text, `The last test email of cluster "${id}"`)
      : undefined;
  }

  /** Newest (or oldest) first, following pages until `limit`. */
  private async queryVersions(clusterId: string, limit: number, oldestFirst: boolean): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    while (items.length < limit) {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':pk': partition(clusterId), ':prefix': VERSION_PREFIX },
          ScanIndexForward: oldestFirst,
          ConsistentRead: true,
          Limit: limit - items.length,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
      if (!startKey) break;
    }
    return items;
  }

  /** Deletes the versions numbered `upTo` and below (normally one: the version that fell off). */
  private async prune(clusterId: string, upTo: number): Promise<void> {
    if (upTo < 1) return;
    for (;;) {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :first AND :last',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: {
            ':pk': partition(clusterId),
            ':first': sortKey(0),
            ':last': sortKey(upTo),
          },
          ProjectionExpression: '#pk, #sk',
          Limit: 25,
        }),
      );
      const items = page.Items ?? [];
      for (const item of items) {
        await this.documents.send(
          new DeleteCommand({ TableName: this.tableName, Key: { [PK]: item[PK], [SK]: item[SK] } }),
        );
      }
      if (items.length === 0 || !page.LastEvaluatedKey) return;
    }
  }
}

function partition(clusterId: string): string {
  return `${CONFIG_HISTORY_PARTITION_PREFIX}${clusterId}`;
}

function sortKey(version: number): string {
  return `${VERSION_PREFIX}${String(version).padStart(10, '0')}`;
}

function numberOf(item: Item): number {
  if (typeof item.version !== 'number')
    throw new Error(`Configuration version item ${String(item[SK])} has no version`);
  return item.version;
}

function fromItem(item: Item): ConfigVersion {
  const version = numberOf(item);
  return parseConfigVersion(
    {
      clusterId: String(item.clusterId),
      version,
      savedAt: String(item.savedAt),
      savedBy: String(item.savedBy),
      restoredFrom: typeof item.restoredFrom === 'number' ? item.restoredFrom : undefined,
      document: String(item.document),
      testEmail: typeof item.testEmail === 'string' ? item.testEmail : undefined,
    },
    `Version ${version} of the configuration of cluster "${String(item.clusterId)}"`,
  );
}
