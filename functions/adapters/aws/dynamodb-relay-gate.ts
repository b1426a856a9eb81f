import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  type NativeAttributeValue,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  decideAcquire,
  decideBackOff,
  decideRelease,
  type RelayGate,
  type RelayGrant,
  type RelayIdentity,
  type RelayRequest,
  type RelaySlot,
  type RelayState,
  type RelayStep,
} from '../../core/mail/relay-gate.js';
import { isConditionalCheckFailed } from './dynamodb-ledger.js';
import { LEDGER_TABLE_KEYS } from './resource-names.js';

export interface DynamoDbRelayGateOptions {
  /** A client of its own (the document client wrapper writes settings onto the client's config). */
  client: DynamoDBClient;
  /** The delivery ledger's table (generic `pk`/`sk`, TTL on `expiresAt`). */
  tableName: string;
}

const { partitionKey: PK, sortKey: SK, ttlAttribute: TTL } = LEDGER_TABLE_KEYS;
/** Every concurrent sender of one relay races for one item; each round has a winner. */
const MAX_ROUNDS = 32;

type Item = Record<string, NativeAttributeValue>;

/**
 * The relay gate in the ledger's table: one item per relay identity, `RELAY#<identity>` /
 * `GATE`, holding the RelayState of relay-gate.ts (`version`, `sends` as a list of
 * `[start, count]` pairs, `slots` as a list of `{ index, holder, until }`, `backOffUntil`,
 * `backOffReason`; times in epoch ms) and the TTL attribute in epoch seconds. Each step reads
 * the item strongly consistently, decides with the pure functions, and writes it back with a
 * condition on the version it read: of concurrent writers one wins a round and the others read
 * again. Single-item conditional writes only (no transactions), so it runs against dynalite.
 */
export class DynamoDbRelayGate implements RelayGate {
  private readonly documents: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: DynamoDbRelayGateOptions) {
    if (!options.tableName) throw new Error('DynamoDbRelayGate: tableName is required');
    this.documents = DynamoDBDocumentClient.from(options.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.tableName = options.tableName;
  }

  acquire(identity: RelayIdentity, request: RelayRequest): Promise<RelayGrant> {
    return this.step(identity, (state) => decideAcquire(state, request), {
      ok: false,
      reason: 'rate',
      retryAfterMs: 1000,
      detail: 'too many senders at once for this relay',
    });
  }

  release(identity: RelayIdentity, slot: RelaySlot, nowMs: number): Promise<void> {
    // Lost rounds leave the slot to its lease, which frees it anyway.
    return this.step(identity, (state) => decideRelease(state, slot, nowMs), undefined);
  }

  backOff(identity: RelayIdentity, untilMs: number, reason: string, nowMs: number): Promise<void> {
    return this.step(identity, (state) => decideBackOff(state, untilMs, reason, nowMs), undefined);
  }

  async inspect(identity: RelayIdentity): Promise<RelayState | undefined> {
    return this.read(identity);
  }

  private async read(identity: RelayIdentity): Promise<RelayState | undefined> {
    const output = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: keyOf(identity), ConsistentRead: true }),
    );
    return output.Item ? stateOf(output.Item) : undefined;
  }

  private async step<T>(
    identity: RelayIdentity,
    decide: (state: RelayState | undefined) => RelayStep<T>,
    exhausted: T,
  ): Promise<T> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const stored = await this.read(identity);
      const { result, next } = decide(stored);
      if (!next) return result;
      try {
        await this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...keyOf(identity),
              version: next.version,
              sends: next.sends,
              slots: next.slots,
              ...(next.backOffUntil !== undefined ? { backOffUntil: next.backOffUntil } : {}),
              ...(next.backOffReason !== undefined ? { backOffReason: next.backOffReason } : {}),
              [TTL]: Math.ceil(next.expiresAt / 1000),
            },
            ConditionExpression: stored ? '#version = :version' : 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: stored ? { '#version': 'version' } : { '#pk': PK },
            ...(stored ? { ExpressionAttributeValues: { ':version': stored.version } } : {}),
          }),
        );
        return result;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
    }
    return exhausted;
  }
}

function keyOf(identity: RelayIdentity) {
  return { [PK]: `RELAY#${identity}`, [SK]: 'GATE' };
}

function stateOf(item: Item): RelayState {
  const state: RelayState = {
    version: Number(item.version),
    sends: ((item.sends as unknown[] | undefined) ?? []).map((pair) => {
      const [start, count] = pair as [unknown, unknown];
      return [Number(start), Number(count)] as [number, number];
    }),
    slots: ((item.slots as Item[] | undefined) ?? []).map((slot) => ({
      index: Number(slot.index),
      holder: String(slot.holder),
      until: Number(slot.until),
    })),
    // The TTL attribute is in epoch seconds.
    expiresAt: Number(item[TTL]) * 1000,
  };
  if (item.backOffUntil !== undefined) state.backOffUntil = Number(item.backOffUntil);
  if (typeof item.backOffReason === 'string') state.backOffReason = item.backOffReason;
  return state;
}
