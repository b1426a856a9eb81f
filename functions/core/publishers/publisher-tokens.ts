// Publisher tokens of the embedded runtime: an appliance's credential that may post events for
// one cluster and nothing else (AWS: the cluster's publisher policy on its `events:source`).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { checkedClusterId } from '../../kernel/cluster-id-schema.js';
import type { Clock } from '../ports.js';

/** What is stored and listed: never the token, only its hash. */
export interface PublisherTokenRecord {
  tokenId: string;
  clusterId: string;
  /** Hex SHA-256 of the whole token. */
  tokenHash: string;
  createdAt: string;
  createdBy: string;
}

export type PublisherTokenInfo = Omit<PublisherTokenRecord, 'tokenHash'>;

/** The one answer that carries the token. */
export interface IssuedPublisherToken extends PublisherTokenInfo {
  token: string;
}

export interface PublisherTokenStore {
  insert(record: PublisherTokenRecord): void;
  get(tokenId: string): PublisherTokenRecord | undefined;
  /** The cluster's tokens, oldest first. */
  list(clusterId: string): PublisherTokenRecord[];
  /** Whether the cluster had that token. */
  remove(clusterId: string, tokenId: string): boolean;
}

/** `anp_<tokenId>_<secret>`: the id finds the row, the secret (256 random bits) proves the holder. */
const TOKEN_PATTERN = /^anp_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const TOKEN_PREFIX = 'anp_';

const sha256 = (value: string) => createHash('sha256').update(value).digest();

export const isPublisherTokenShaped = (token: string): boolean => token.startsWith(TOKEN_PREFIX);

export class PublisherTokens {
  constructor(
    private readonly store: PublisherTokenStore,
    private readonly clock: Clock,
  ) {}

  issue(clusterId: string, createdBy: string): IssuedPublisherToken {
    const cluster = checkedClusterId(clusterId);
    const tokenId = randomBytes(8).toString('hex');
    const token = `${TOKEN_PREFIX}${tokenId}_${randomBytes(32).toString('base64url')}`;
    const record: PublisherTokenRecord = {
      tokenId,
      clusterId: cluster,
      tokenHash: sha256(token).toString('hex'),
      createdAt: this.clock().toISOString(),
      createdBy,
    };
    this.store.insert(record);
    return { ...infoOf(record), token };
  }

  list(clusterId: string): PublisherTokenInfo[] {
    return this.store.list(checkedClusterId(clusterId)).map(infoOf);
  }

  revoke(clusterId: string, tokenId: string): boolean {
    return this.store.remove(checkedClusterId(clusterId), tokenId);
  }

  /** The token's record when it is one of ours and not revoked; a constant-time hash comparison. */
  verify(token: string): PublisherTokenInfo | undefined {
    const match = TOKEN_PATTERN.exec(token);
    if (!match?.[1]) return undefined;
    const record = this.store.get(match[1]);
    if (!record) return undefined;
    const expected = Buffer.from(record.tokenHash, 'hex');
    const given = sha256(token);
    return expected.length === given.length && timingSafeEqual(expected, given) ? infoOf(record) : undefined;
  }
}

function infoOf({ tokenHash: _, ...info }: PublisherTokenRecord): PublisherTokenInfo {
  return info;
}
