import type { StoredEmailConfig } from './stored-config.js';

export interface ConfigStore {
  /** The cluster's stored document (secrets included), or undefined when there is none. */
  get(clusterId: string): Promise<StoredEmailConfig | undefined>;
  /** Creates or replaces the cluster's document. */
  put(document: StoredEmailConfig): Promise<void>;
  /** Every cluster that has a configuration. */
  listClusterIds(): Promise<string[]>;
}
