import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  type ParameterTier,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { type ConfigStore, checkedStoredForm } from '../../core/config/config-store.js';
import { type StoredEmailConfig, StoredEmailConfigSchema } from '../../core/config/stored-config.js';
import { ClusterIdSchema, checkedClusterId } from '../../kernel/cluster-id-schema.js';
import { formatIssues, issuesFromZod, ValidationError } from '../../kernel/field-issues.js';
import { CONFIG_PARAMETER_SUFFIX, configParameterName } from './resource-names.js';

export interface SsmConfigStoreOptions {
  client: SSMClient;
  /** e.g. `/appliance-notifier/clusters`: starts with `/`, does not end with one. */
  parameterPrefix: string;
  /** A customer managed key for the SecureString; the account's `aws/ssm` key when absent. */
  kmsKeyId?: string;
  /** How long a read is reused across warm invocations; 0 turns the cache off. */
  cacheTtlMs?: number;
  clock?: () => number;
}

export const DEFAULT_CONFIG_CACHE_TTL_MS = 30_000;
const STANDARD_TIER_MAX_BYTES = 4096;

interface CacheEntry {
  value: StoredEmailConfig | undefined;
  expiresAt: number;
}

/**
 * One SecureString parameter per cluster. Reads are cached for a short TTL because every event
 * and every daily notice reads the configuration, and GetParameter has a low default
 * throughput quota; this process's own writes replace the cached value at once.
 */
export class SsmConfigStore implements ConfigStore {
  private readonly client: SSMClient;
  private readonly prefix: string;
  private readonly kmsKeyId: string | undefined;
  private readonly ttlMs: number;
  private readonly clock: () => number;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<StoredEmailConfig | undefined>>();
  // Bumped by every own write, so a read that was in flight during the write cannot cache what it
  // read before the write landed.
  private readonly generations = new Map<string, number>();

  constructor(options: SsmConfigStoreOptions) {
    const { parameterPrefix } = options;
    if (!parameterPrefix.startsWith('/') || parameterPrefix.endsWith('/') || parameterPrefix.includes('//')) {
      throw new Error(
        `SsmConfigStore: parameterPrefix must start with "/" and not end with "/" (e.g. "/appliance-notifier/clusters"), got "${parameterPrefix}"`,
      );
    }
    const ttl = options.cacheTtlMs ?? DEFAULT_CONFIG_CACHE_TTL_MS;
    if (!Number.isFinite(ttl) || ttl < 0) {
      throw new Error(`SsmConfigStore: cacheTtlMs must be a number >= 0, got ${ttl}`);
    }
    this.client = options.client;
    this.prefix = parameterPrefix;
    this.kmsKeyId = options.kmsKeyId;
    this.ttlMs = ttl;
    this.clock = options.clock ?? Date.now;
  }

  /** The parameter that holds a cluster's configuration. */
  parameterName(clusterId: string): string {
    return configParameterName(this.prefix, checkedClusterId(clusterId));
  }

  async get(clusterId: string): Promise<StoredEmailConfig | undefined> {
    const name = this.parameterName(clusterId);
    const cached = this.cache.get(clusterId);
    if (cached && cached.expiresAt > this.clock()) return cached.value;

    let pending = this.inFlight.get(clusterId);
    if (!pending) {
      const generation = this.generations.get(clusterId) ?? 0;
      pending = this.read(name).then((value) => {
        if ((this.generations.get(clusterId) ?? 0) === generation) this.remember(clusterId, value);
        return value;
      });
      const forget = () => {
        if (this.inFlight.get(clusterId) === pending) this.inFlight.delete(clusterId);
      };
      pending.then(forget, forget);
      this.inFlight.set(clusterId, pending);
    }
    return await pending;
  }

  async put(document: StoredEmailConfig): Promise<void> {
    const parsed = StoredEmailConfigSchema.safeParse(document);
    if (!parsed.success) {
      throw ValidationError.fromZod(parsed.error, 'Refusing to store an invalid configuration');
    }
    const { clusterId } = parsed.data;
    const name = this.parameterName(clusterId);
    // The grant never goes into the configuration parameter (it has its own store).
    const { text: value, bytes } = checkedStoredForm(parsed.data);
    const tier: ParameterTier = bytes <= STANDARD_TIER_MAX_BYTES ? 'Standard' : 'Advanced';
    try {
      await this.write(name, value, tier);
    } catch (error) {
      // SSM cannot turn an Advanced parameter back into a Standard one; a document that shrank
      // below 4 KB keeps the tier it already has.
      if (tier !== 'Standard' || !isAdvancedDowngradeError(error)) throw error;
      await this.write(name, value, 'Advanced');
    }
    this.generations.set(clusterId, (this.generations.get(clusterId) ?? 0) + 1);
    const { oauth: _grant, ...written } = parsed.data;
    this.remember(clusterId, deepFreeze(written));
  }

  async delete(clusterId: string): Promise<boolean> {
    const name = this.parameterName(clusterId);
    let deleted = true;
    try {
      await this.client.send(new DeleteParameterCommand({ Name: name }));
    } catch (error) {
      if (errorName(error) !== 'ParameterNotFound') throw error;
      deleted = false;
    }
    // Like an own write: a read in flight must not cache the document from before the delete.
    this.generations.set(clusterId, (this.generations.get(clusterId) ?? 0) + 1);
    this.remember(clusterId, undefined);
    return deleted;
  }

  async listClusterIds(): Promise<string[]> {
    const ids = new Set<string>();
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new GetParametersByPathCommand({
          Path: this.prefix,
          Recursive: true,
          // Names are all we need; decrypting every cluster's secrets to list them would be wasteful.
          WithDecryption: false,
          MaxResults: 10,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      for (const parameter of page.Parameters ?? []) {
        const id = parameter.Name && this.clusterIdOfParameter(parameter.Name);
        if (id) ids.add(id);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return [...ids].sort();
  }

  private clusterIdOfParameter(name: string): string | undefined {
    const head = `${this.prefix}/`;
    const tail = `/${CONFIG_PARAMETER_SUFFIX}`;
    if (!name.startsWith(head) || !name.endsWith(tail)) return undefined;
    const id = name.slice(head.length, -tail.length);
    // Other parameters may share the prefix (deeper paths, other documents): skip them.
    return ClusterIdSchema.safeParse(id).success ? id : undefined;
  }

  private async read(name: string): Promise<StoredEmailConfig | undefined> {
    let raw: string | undefined;
    try {
      const output = await this.client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      raw = output.Parameter?.Value;
    } catch (error) {
      if (errorName(error) === 'ParameterNotFound') return undefined;
      throw error;
    }
    if (raw === undefined) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      // JSON.parse's message quotes the text around the error, and the text holds secrets.
      throw new Error(`SSM parameter ${name} does not hold valid JSON`);
    }
    const parsed = StoredEmailConfigSchema.safeParse(json);
    if (!parsed.success) {
      throw new Error(
        `SSM parameter ${name} holds an invalid configuration: ${formatIssues(issuesFromZod(parsed.error))}`,
      );
    }
    return deepFreeze(parsed.data);
  }

  private async write(name: string, value: string, tier: ParameterTier): Promise<void> {
    await this.client.send(
      new PutParameterCommand({
        Name: name,
        Value: value,
        Type: 'SecureString',
        ...(this.kmsKeyId ? { KeyId: this.kmsKeyId } : {}),
        Overwrite: true,
        Tier: tier,
      }),
    );
  }

  private remember(clusterId: string, value: StoredEmailConfig | undefined): void {
    // Absence is cached too: events for a cluster nobody configured must not hammer SSM.
    if (this.ttlMs > 0) this.cache.set(clusterId, { value, expiresAt: this.clock() + this.ttlMs });
  }
}

/**
 * The cached document is shared by every caller of a warm function, so it is frozen: a caller
 * that tried to edit it would throw instead of silently changing what others read. Freezing
 * once is cheaper than copying on every read of the hot path.
 */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'name' in error && typeof error.name === 'string'
    ? error.name
    : undefined;
}

function isAdvancedDowngradeError(error: unknown): boolean {
  const message =
    typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : '';
  return errorName(error) === 'ValidationException' && /advanced/i.test(message) && /standard/i.test(message);
}
