import type { StoredEmailConfig } from './stored-config.js';

export interface ConfigStore {
  /**
   * The cluster's stored document (secrets included), or undefined when there is none. A
   * document written before the OAuth2 grant got its own store may still carry it in `oauth`
   * (see GrantStore); a store never writes `oauth` back.
   */
  get(clusterId: string): Promise<StoredEmailConfig | undefined>;
  /** Creates or replaces the cluster's document, without `oauth`. Throws ConfigTooLargeError. */
  put(document: StoredEmailConfig): Promise<void>;
  /** Every cluster that has a configuration. */
  listClusterIds(): Promise<string[]>;
  /** Removes the cluster's document; false when it had none. */
  delete(clusterId: string): Promise<boolean>;
}

/**
 * The largest stored document, in UTF-8 bytes of its JSON: an SSM Advanced-tier parameter's hard
 * limit. The embedded store enforces it too, so a configuration that works locally also deploys.
 */
export const CONFIG_MAX_BYTES = 8192;

/** A document over CONFIG_MAX_BYTES: the admin API answers 413 with both figures. */
export class ConfigTooLargeError extends Error {
  override readonly name = 'ConfigTooLargeError';
  constructor(
    readonly clusterId: string,
    readonly bytes: number,
    readonly limit: number = CONFIG_MAX_BYTES,
  ) {
    super(
      `The configuration for cluster "${clusterId}" is ${bytes} bytes stored; at most ${limit} bytes fit (the SSM Advanced-tier parameter limit): shorten or remove contacts`,
    );
  }
}

/** The stored form of a document: what a ConfigStore writes (no `oauth`), and its size. */
export function storedForm(document: StoredEmailConfig): { text: string; bytes: number } {
  const { oauth: _grant, ...rest } = document;
  const text = JSON.stringify(rest);
  return { text, bytes: Buffer.byteLength(text, 'utf8') };
}

/** The stored form, or ConfigTooLargeError. */
export function checkedStoredForm(document: StoredEmailConfig): { text: string; bytes: number } {
  const form = storedForm(document);
  if (form.bytes > CONFIG_MAX_BYTES) throw new ConfigTooLargeError(document.clusterId, form.bytes);
  return form;
}
