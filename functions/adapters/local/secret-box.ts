// Secrets at rest in the embedded database: AES-256-GCM on exactly the secret fields of a stored
// document (relay passwords, OAuth2 client secrets, refresh tokens), the rest left as readable
// JSON. The key lives apart from the database: SECRETS_KEY from the environment, or a key file
// (default DATA_DIR/secrets.key, 0600) that a copy of notifier.db alone does not include.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import * as z from 'zod';
import { hasErrorCode, PRIVATE_FILE_MODE } from './atomic-file.js';

export const SECRETS_KEY_FILE_NAME = 'secrets.key';
export const SECRETS_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ENVELOPE_VERSION = 'v1';

/** A sealed secret, in place of the plaintext string in the stored JSON. */
export interface SealedSecret {
  enc: typeof ENVELOPE_VERSION;
  /** Which key sealed it (keyIdOf): rotation reads old values with the previous key. */
  kid: string;
  iv: string;
  tag: string;
  ct: string;
}

/** A key that cannot be used, or a secret no key in use can open: the runtime refuses to start. */
export class SecretsKeyError extends Error {
  override readonly name = 'SecretsKeyError';
}

/** A sealed secret that fails authentication: altered, or sealed with another key of the same id. */
export class SecretDecryptError extends Error {
  override readonly name = 'SecretDecryptError';
}

/**
 * 32 bytes as 64 hex digits or as base64 (standard or URL-safe, padding optional), e.g. from
 * `openssl rand -base64 32`. The message names the variable, never its value.
 */
export function parseSecretsKey(text: string, name = 'SECRETS_KEY'): Buffer {
  const decoded = decodeSecretsKey(text);
  if (typeof decoded === 'string') throw new SecretsKeyError(`${name} ${decoded}`);
  return decoded;
}

/** The key, or what is wrong with it ("must be ..."), without quoting it. */
export function decodeSecretsKey(text: string): Buffer | string {
  const value = text.trim();
  const hint = `must be ${SECRETS_KEY_BYTES} bytes as 64 hex digits or base64 (e.g. \`openssl rand -base64 32\`)`;
  if (/^[0-9a-fA-F]+$/.test(value) && value.length === SECRETS_KEY_BYTES * 2)
    return Buffer.from(value, 'hex');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return `${hint}; it is neither hex nor base64`;
  const key = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== SECRETS_KEY_BYTES) return `${hint}; it decodes to ${key.length} bytes`;
  return key;
}

const keyText = z
  .string()
  .optional()
  .superRefine((value, ctx) => {
    if (value === undefined || value === '') return;
    const decoded = decodeSecretsKey(value);
    if (typeof decoded === 'string') ctx.addIssue({ code: 'custom', message: decoded });
  });

/** The environment of the key, for the runtime's and the CLI's env schemas. */
export const SecretsKeyEnvShape = {
  /** 32 bytes (hex or base64) that encrypt the secrets in the database; default the key file. */
  SECRETS_KEY: keyText,
  /** The key before a rotation: read only, values are rewritten under SECRETS_KEY. */
  SECRETS_KEY_PREVIOUS: keyText,
  /** The key file used without SECRETS_KEY (default DATA_DIR/secrets.key). */
  SECRETS_KEY_FILE: z.string().min(1).optional(),
};

/** The settings from an environment parsed with SecretsKeyEnvShape. */
export function secretKeySettingsOf(env: {
  SECRETS_KEY?: string | undefined;
  SECRETS_KEY_PREVIOUS?: string | undefined;
  SECRETS_KEY_FILE?: string | undefined;
}): SecretKeySettings {
  return {
    ...(env.SECRETS_KEY ? { key: env.SECRETS_KEY } : {}),
    ...(env.SECRETS_KEY_PREVIOUS ? { previousKey: env.SECRETS_KEY_PREVIOUS } : {}),
    ...(env.SECRETS_KEY_FILE ? { keyFile: env.SECRETS_KEY_FILE } : {}),
  };
}

/** A short public name of a key (not a secret: a hash prefix), stored beside each value it seals. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256')
    .update('appliance-notifier secrets key id\0')
    .update(key)
    .digest('hex')
    .slice(0, 12);
}

export function isSealedSecret(value: unknown): value is SealedSecret {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.enc === 'string' &&
    typeof v.kid === 'string' &&
    typeof v.iv === 'string' &&
    typeof v.tag === 'string' &&
    typeof v.ct === 'string'
  );
}

/**
 * Seals and opens secrets with the current key; the previous keys (rotation) only open. `aad`
 * binds a sealed value to where it belongs (cluster and field), so it cannot be moved to another
 * cluster's document and decrypt there.
 */
export class SecretBox {
  readonly keyId: string;
  private readonly keys: Map<string, Buffer>;

  constructor(
    private readonly current: Buffer,
    previous: readonly Buffer[] = [],
    /** How the key was given, for messages: "SECRETS_KEY", "/var/lib/notifier/secrets.key". */
    readonly source = 'SECRETS_KEY',
  ) {
    if (current.length !== SECRETS_KEY_BYTES)
      throw new SecretsKeyError(`${source} must be ${SECRETS_KEY_BYTES} bytes`);
    this.keyId = keyIdOf(current);
    this.keys = new Map([...previous.map((key) => [keyIdOf(key), key] as const), [this.keyId, current]]);
  }

  /** The key ids this box can open, the current one first. */
  get keyIds(): string[] {
    return [this.keyId, ...[...this.keys.keys()].filter((id) => id !== this.keyId)];
  }

  seal(plaintext: string, aad: string): SealedSecret {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      enc: ENVELOPE_VERSION,
      kid: this.keyId,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ct: ct.toString('base64'),
    };
  }

  /** The plaintext; `where` names the value in errors (e.g. `cluster "x" config.smtp.auth.password`). */
  open(sealed: SealedSecret, aad: string, where: string): string {
    if (sealed.enc !== ENVELOPE_VERSION) {
      throw new SecretDecryptError(
        `${where} is sealed in format "${sealed.enc}", which this version does not know (it knows "${ENVELOPE_VERSION}")`,
      );
    }
    const key = this.keys.get(sealed.kid);
    if (!key) {
      throw new SecretsKeyError(
        `${where} is encrypted with key id ${sealed.kid}, but the key in use (${this.source}) has id ${this.keyId}${this.keys.size > 1 ? ` and the previous key(s) ${this.keyIds.slice(1).join(', ')}` : ''}: set SECRETS_KEY (or SECRETS_KEY_PREVIOUS while rotating) to the key it was encrypted with`,
      );
    }
    const iv = Buffer.from(sealed.iv, 'base64');
    const tag = Buffer.from(sealed.tag, 'base64');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      throw new SecretDecryptError(
        `${where} cannot be decrypted: its IV or authentication tag has the wrong length`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new SecretDecryptError(
        `${where} cannot be decrypted with key id ${sealed.kid}: it was altered, or it belongs to another cluster or field (authentication failed)`,
      );
    }
  }
}

/** Where a secret sits in a stored JSON value: a path of object keys. */
export type SecretField = readonly string[];

/** The secret fields of a StoredEmailConfig (the history's documents are the same shape). */
export const CONFIG_SECRET_FIELDS: readonly SecretField[] = [
  ['config', 'smtp', 'auth', 'password'],
  ['config', 'smtp', 'auth', 'clientSecret'],
  ['config', 'smtp', 'auth', 'clientCertificate', 'privateKeyPem'],
  ['config', 'smtp', 'auth', 'serviceAccountKey', 'private_key'],
  ['config', 'graph', 'clientSecret'],
  ['config', 'graph', 'clientCertificate', 'privateKeyPem'],
  // Documents from before grants had their own table may still carry one.
  ['oauth', 'refreshToken'],
];
/** The secret fields of an OAuthGrant. */
export const GRANT_SECRET_FIELDS: readonly SecretField[] = [['refreshToken']];

/** What a stored row is: `config` documents (current and history) or `grant`s, of one cluster. */
export interface SecretScope {
  kind: 'config' | 'grant';
  clusterId: string;
  /** For messages: e.g. `Stored configuration of cluster "x" (in /data/notifier.db)`. */
  where: string;
}

function aadOf(scope: SecretScope, field: SecretField): string {
  return `appliance-notifier\0${scope.kind}\0${scope.clusterId}\0${field.join('.')}`;
}

function parent(json: unknown, field: SecretField): Record<string, unknown> | undefined {
  let node = json;
  for (const key of field.slice(0, -1)) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === 'object' && node !== null && !Array.isArray(node)
    ? (node as Record<string, unknown>)
    : undefined;
}

/** The stored text with the secret fields sealed (a value already sealed is kept as it is). */
export function sealSecretsInJson(
  box: SecretBox,
  json: unknown,
  fields: readonly SecretField[],
  scope: SecretScope,
): string {
  const copy = structuredClone(json);
  for (const field of fields) {
    const holder = parent(copy, field);
    const name = field[field.length - 1] as string;
    const value = holder?.[name];
    if (holder && typeof value === 'string') holder[name] = box.seal(value, aadOf(scope, field));
  }
  return JSON.stringify(copy);
}

export interface OpenedJson {
  /** The stored text with the secrets in plaintext, for the schema to check; unparsable text as it was. */
  text: string;
  /** A secret is in plaintext (a row from before encryption) or under a previous key: rewrite it. */
  stale: boolean;
  /** The parsed JSON with plaintext secrets (undefined when the text is not JSON). */
  json?: unknown;
}

/** Opens the sealed secret fields of stored text; plaintext ones (older rows) are read as they are. */
export function openSecretsInJson(
  box: SecretBox,
  text: string,
  fields: readonly SecretField[],
  scope: SecretScope,
): OpenedJson {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { text, stale: false };
  }
  let stale = false;
  let changed = false;
  for (const field of fields) {
    const holder = parent(json, field);
    const name = field[field.length - 1] as string;
    const value = holder?.[name];
    if (!holder || value === undefined) continue;
    if (typeof value === 'string') {
      stale = true;
    } else if (isSealedSecret(value)) {
      holder[name] = box.open(value, aadOf(scope, field), `${scope.where}: ${field.join('.')}`);
      if (value.kid !== box.keyId) stale = true;
      changed = true;
    }
  }
  return { text: changed ? JSON.stringify(json) : text, stale, json };
}

export interface SecretKeySettings {
  /** SECRETS_KEY: 32 bytes as hex or base64; when absent, the key file. */
  key?: string | undefined;
  /** SECRETS_KEY_PREVIOUS: the key before a rotation, only to read values not yet rewritten. */
  previousKey?: string | undefined;
  /** SECRETS_KEY_FILE: where the key file is (default DATA_DIR/secrets.key), used without SECRETS_KEY. */
  keyFile?: string | undefined;
}

export interface LoadedKey {
  key: Buffer;
  /** How it was given, for messages. */
  source: string;
  /** The key file was created by this call (no key existed). */
  created: boolean;
}

/**
 * The key: SECRETS_KEY, else the key file, else a new random key written to the key file
 * (0600, never overwritten). `holdsSealed` says whether the database already holds sealed
 * secrets: then a missing key is an error, not a reason to make a new one that opens nothing.
 */
export async function loadSecretsKey(
  settings: SecretKeySettings,
  defaultKeyFile: string,
  holdsSealed: () => string | undefined,
): Promise<LoadedKey> {
  if (settings.key !== undefined && settings.key !== '') {
    return { key: parseSecretsKey(settings.key, 'SECRETS_KEY'), source: 'SECRETS_KEY', created: false };
  }
  const file = settings.keyFile || defaultKeyFile;
  const existing = await readKeyFile(file);
  if (existing) return { key: existing, source: file, created: false };
  const sealedKid = holdsSealed();
  if (sealedKid) {
    throw new SecretsKeyError(
      `the database holds secrets encrypted with key id ${sealedKid}, but SECRETS_KEY is not set and the key file ${file} does not exist: restore the key file from its backup, or set SECRETS_KEY (or SECRETS_KEY_FILE) to that key`,
    );
  }
  const key = randomBytes(SECRETS_KEY_BYTES);
  try {
    await writeFile(file, `${key.toString('base64')}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  } catch (error) {
    // Another process created it first: use that one.
    if (hasErrorCode(error, 'EEXIST')) {
      const other = await readKeyFile(file);
      if (other) return { key: other, source: file, created: false };
    }
    throw error;
  }
  await chmod(file, PRIVATE_FILE_MODE);
  return { key, source: file, created: true };
}

async function readKeyFile(file: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return undefined;
    throw error;
  }
  const { mode } = await stat(file);
  if ((mode & 0o077) !== 0) {
    throw new SecretsKeyError(
      `the secrets key file ${file} can be read by other users (mode ${(mode & 0o777).toString(8)}): chmod 600 it`,
    );
  }
  return parseSecretsKey(text, `the secrets key file ${file}`);
}

/** The box for these settings; the previous key, when given, only opens. */
export function secretBoxOf(loaded: LoadedKey, settings: SecretKeySettings): SecretBox {
  const previous = settings.previousKey
    ? [parseSecretsKey(settings.previousKey, 'SECRETS_KEY_PREVIOUS')]
    : [];
  return new SecretBox(loaded.key, previous, loaded.source);
}
