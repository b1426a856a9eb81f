import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  AUDIT_RETENTION_MS,
  type AuditEntry,
  type AuditLog,
  type AuditPage,
  type AuditPosition,
  completeEntry,
  type NewAuditEntry,
} from '../../core/audit/audit-log.js';
import type { Clock } from '../../core/ports.js';
import { checkedClusterId } from '../../kernel/cluster-id-schema.js';
import { AUDIT_PARTITION_PREFIX, LEDGER_TABLE_KEYS } from './resource-names.js';

export interface DynamoDbAuditLogOptions {
  client: DynamoDBClient;
  /** The delivery log's table (generic `pk`/`sk`, TTL on `expiresAt`). */
  tableName: string;
  clock?: Clock;
}

const { partitionKey: PK, sortKey: SK, ttlAttribute: TTL } = LEDGER_TABLE_KEYS;

const partition = (clusterId: string) => `${AUDIT_PARTITION_PREFIX}${clusterId}`;
/** `<iso time>#<id>`: ISO times sort as text, so the sort key orders the trail. */
const sortKey = (position: AuditPosition) => `${position.at}#${position.id}`;

/**
 * The audit trail in the ledger's table: `AUDIT#<clusterId>` / `<iso time>#<id>`, read newest
 * first with a descending Query, removed by the table's TTL after AUDIT_RETENTION_DAYS (the
 * function logs keep each entry too). A put per entry; the id makes it unique.
 */
export class DynamoDbAuditLog implements AuditLog {
  private readonly documents: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;

  constructor(options: DynamoDbAuditLogOptions) {
    if (!options.tableName) throw new Error('DynamoDbAuditLog: tableName is required');
    this.documents = DynamoDBDocumentClient.from(options.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.tableName = options.tableName;
    this.clock = options.clock ?? (() => new Date());
  }

  async record(entry: NewAuditEntry): Promise<AuditEntry> {
    const complete = completeEntry({ ...entry, clusterId: checkedClusterId(entry.clusterId) }, this.clock);
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          [PK]: partition(complete.clusterId),
          [SK]: sortKey(complete),
          ...complete,
          ...(complete.detail ? { detail: JSON.stringify(complete.detail) } : {}),
          [TTL]: Math.floor((Date.parse(complete.at) + AUDIT_RETENTION_MS) / 1000),
        },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK },
      }),
    );
    return complete;
  }

  async page(clusterId: string, options: { limit: number; after?: AuditPosition }): Promise<AuditPage> {
    const id = checkedClusterId(clusterId);
    const entries: AuditEntry[] = [];
    let startKey: Record<string, unknown> | undefined = options.after
      ? { [PK]: partition(id), [SK]: sortKey(options.after) }
      : undefined;
    const nowSeconds = Math.floor(this.clock().getTime() / 1000);
    // One more than asked: whether there is a next page. Entries past their TTL count as absent.
    while (entries.length <= options.limit) {
      const result = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': PK },
          ExpressionAttributeValues: { ':pk': partition(id) },
          ScanIndexForward: false,
          Limit: options.limit + 1 - entries.length,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of result.Items ?? []) {
        if (typeof item[TTL] === 'number' && item[TTL] < nowSeconds) continue;
        entries.push(entryOf(item));
      }
      startKey = result.LastEvaluatedKey;
      if (!startKey) break;
    }
    const page = entries.slice(0, options.limit);
    const last = page.at(-1);
    return entries.length > options.limit && last
      ? { entries: page, next: { at: last.at, id: last.id } }
      : { entries: page };
  }
}

function entryOf(item: Record<string, unknown>): AuditEntry {
  return {
    id: String(item.id),
    at: String(item.at),
    actor: String(item.actor),
    action: String(item.action) as AuditEntry['action'],
    clusterId: String(item.clusterId),
    ...(typeof item.detail === 'string' ? { detail: JSON.parse(item.detail) as AuditEntry['detail'] } : {}),
  };
}
