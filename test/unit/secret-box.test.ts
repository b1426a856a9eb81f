// The secrets box of the embedded database (functions/adapters/local/secret-box.ts): AES-256-GCM
// per secret field, a versioned envelope naming its key, rotation, and keys that are refused.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  CONFIG_SECRET_FIELDS,
  decodeSecretsKey,
  isSealedSecret,
  keyIdOf,
  openSecretsInJson,
  parseSecretsKey,
  SecretBox,
  SecretDecryptError,
  SecretsKeyError,
  sealSecretsInJson,
} from '../../functions/adapters/local/secret-box.js';
import { LocalEnvSchema } from '../../local-runtime/env.js';
import { parseCliEnv, UsageError } from '../../ops/cli.js';

const KEY_A = Buffer.alloc(32, 0xa1);
const KEY_B = Buffer.alloc(32, 0xb2);
const AAD = 'appliance-notifier\0config\0relay-eu\0config.smtp.auth.password';
const SECRET = 'Relay-Password-7f3e';

function flipped(base64: string, index = 0): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return bytes.toString('base64');
}

const scope = {
  kind: 'config',
  clusterId: 'relay-eu',
  where: 'Stored configuration of cluster "relay-eu"',
} as const;
const document = {
  schemaVersion: 1,
  clusterId: 'relay-eu',
  config: {
    sender: 'alerts@example.com',
    smtp: {
      host: 'smtp.example.com',
      auth: { type: 'oauth2', clientId: 'app', clientSecret: 'Client-Secret-1', password: SECRET },
    },
  },
  oauth: { status: 'authorized', refreshToken: 'Refresh-Token-2' },
};

describe('SecretBox', () => {
  it('round-trips a secret, with a fresh 96-bit IV and a 128-bit tag each time', () => {
    const box = new SecretBox(KEY_A);

    const one = box.seal(SECRET, AAD);
    const two = box.seal(SECRET, AAD);

    expect(box.open(one, AAD, 'x')).toBe(SECRET);
    expect(box.open(two, AAD, 'x')).toBe(SECRET);
    expect(one).toMatchObject({ enc: 'v1', kid: keyIdOf(KEY_A) });
    expect(Buffer.from(one.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(one.tag, 'base64')).toHaveLength(16);
    expect(one.iv).not.toBe(two.iv);
    expect(one.ct).not.toBe(two.ct);
    expect(JSON.stringify(one)).not.toContain(SECRET);
  });

  it.each([
    ['ct', 'the ciphertext'],
    ['tag', 'the tag'],
    ['iv', 'the IV'],
  ] as const)('detects a flipped bit in %s (%s) and says so', (field, _what) => {
    const box = new SecretBox(KEY_A);
    const sealed = box.seal(SECRET, AAD);

    const open = () =>
      box.open({ ...sealed, [field]: flipped(sealed[field]) }, AAD, 'cluster "relay-eu": password');

    expect(open).toThrow(SecretDecryptError);
    expect(open).toThrow(
      /^cluster "relay-eu": password cannot be decrypted with key id [0-9a-f]{12}: it was altered, or it belongs to another cluster or field \(authentication failed\)$/,
    );
  });

  it('refuses a value moved to another cluster or field (the AAD binds it)', () => {
    const box = new SecretBox(KEY_A);
    const sealed = box.seal(SECRET, AAD);

    expect(() => box.open(sealed, AAD.replace('relay-eu', 'relay-us'), 'x')).toThrow(SecretDecryptError);
    expect(() => box.open(sealed, AAD.replace('password', 'clientSecret'), 'x')).toThrow(SecretDecryptError);
  });

  it('refuses a value sealed under another key, naming both key ids', () => {
    const sealed = new SecretBox(KEY_A).seal(SECRET, AAD);
    const other = new SecretBox(KEY_B);

    const open = () => other.open(sealed, AAD, 'the password');

    expect(open).toThrow(SecretsKeyError);
    expect(open).toThrow(
      `the password is encrypted with key id ${keyIdOf(KEY_A)}, but the key in use (SECRETS_KEY) has id ${keyIdOf(KEY_B)}`,
    );
  });

  it('refuses an envelope of an unknown format version', () => {
    const box = new SecretBox(KEY_A);
    const sealed = { ...box.seal(SECRET, AAD), enc: 'v9' } as unknown as ReturnType<SecretBox['seal']>;

    expect(() => box.open(sealed, AAD, 'the password')).toThrow(
      /format "v9", which this version does not know/,
    );
  });

  it('rotation: the previous key opens old values, new values are sealed with the current key', () => {
    const old = new SecretBox(KEY_A).seal(SECRET, AAD);
    const rotated = new SecretBox(KEY_B, [KEY_A]);

    const fresh = rotated.seal(SECRET, AAD);

    expect(rotated.open(old, AAD, 'x')).toBe(SECRET);
    expect(fresh.kid).toBe(keyIdOf(KEY_B));
    expect(rotated.keyIds).toEqual([keyIdOf(KEY_B), keyIdOf(KEY_A)]);
    // Once the previous key is dropped, the new value still opens and the old one no longer does.
    expect(new SecretBox(KEY_B).open(fresh, AAD, 'x')).toBe(SECRET);
    expect(() => new SecretBox(KEY_B).open(old, AAD, 'x')).toThrow(SecretsKeyError);
  });
});

describe('secret fields of stored JSON', () => {
  it('seals exactly the secret fields and leaves the rest readable', () => {
    const box = new SecretBox(KEY_A);

    const text = sealSecretsInJson(box, document, CONFIG_SECRET_FIELDS, scope);
    const stored = JSON.parse(text);

    for (const secret of [SECRET, 'Client-Secret-1', 'Refresh-Token-2']) expect(text).not.toContain(secret);
    expect(isSealedSecret(stored.config.smtp.auth.password)).toBe(true);
    expect(isSealedSecret(stored.config.smtp.auth.clientSecret)).toBe(true);
    expect(isSealedSecret(stored.oauth.refreshToken)).toBe(true);
    expect(stored.config.smtp.host).toBe('smtp.example.com');
    expect(stored.config.smtp.auth.clientId).toBe('app');
    expect(stored.oauth.status).toBe('authorized');
    expect(openSecretsInJson(box, text, CONFIG_SECRET_FIELDS, scope)).toMatchObject({
      json: document,
      stale: false,
    });
  });

  it('reads plaintext (rows from before encryption) and marks them stale; old keys are stale too', () => {
    const plain = openSecretsInJson(
      new SecretBox(KEY_A),
      JSON.stringify(document),
      CONFIG_SECRET_FIELDS,
      scope,
    );
    const underOld = sealSecretsInJson(new SecretBox(KEY_A), document, CONFIG_SECRET_FIELDS, scope);
    const rotated = openSecretsInJson(new SecretBox(KEY_B, [KEY_A]), underOld, CONFIG_SECRET_FIELDS, scope);

    expect(plain).toMatchObject({ json: document, stale: true });
    expect(rotated).toMatchObject({ json: document, stale: true });
  });

  it('names the field of a value that fails', () => {
    const box = new SecretBox(KEY_A);
    const stored = JSON.parse(sealSecretsInJson(box, document, CONFIG_SECRET_FIELDS, scope));
    stored.config.smtp.auth.clientSecret.ct = flipped(stored.config.smtp.auth.clientSecret.ct);

    expect(() => openSecretsInJson(box, JSON.stringify(stored), CONFIG_SECRET_FIELDS, scope)).toThrow(
      /^Stored configuration of cluster "relay-eu": config\.smtp\.auth\.clientSecret cannot be decrypted/,
    );
  });
});

describe('SECRETS_KEY', () => {
  const key = randomBytes(32);

  it.each([
    ['hex', key.toString('hex')],
    ['base64', key.toString('base64')],
    ['base64url without padding', key.toString('base64url')],
    ['base64 with a trailing newline', `${key.toString('base64')}\n`],
  ])('accepts 32 bytes as %s', (_name, text) => {
    expect(parseSecretsKey(text).equals(key)).toBe(true);
  });

  it.each([
    ['16 bytes of hex', randomBytes(16).toString('hex'), /it decodes to 24 bytes/],
    ['31 bytes of base64', randomBytes(31).toString('base64'), /it decodes to 31 bytes/],
    ['a passphrase', 'correct horse battery staple', /it is neither hex nor base64/],
  ])('refuses %s, naming SECRETS_KEY and not quoting it', (_name, text, problem) => {
    const parse = () => parseSecretsKey(text);

    expect(parse).toThrow(SecretsKeyError);
    expect(parse).toThrow(/^SECRETS_KEY must be 32 bytes as 64 hex digits or base64/);
    expect(parse).toThrow(problem);
    expect(decodeSecretsKey(text)).not.toContain(text.trim());
  });

  it('a bad SECRETS_KEY or SECRETS_KEY_PREVIOUS refuses to start: one line naming the variable', () => {
    const parse = (env: Record<string, string>) => () => parseCliEnv(LocalEnvSchema, env);

    expect(parse({ SECRETS_KEY: 'too-short' })).toThrow(UsageError);
    expect(parse({ SECRETS_KEY: 'too-short' })).toThrow(
      /^invalid environment: SECRETS_KEY: must be 32 bytes as 64 hex digits or base64 .*; it decodes to \d+ bytes$/,
    );
    expect(parse({ SECRETS_KEY: key.toString('hex'), SECRETS_KEY_PREVIOUS: 'x y' })).toThrow(
      /^invalid environment: SECRETS_KEY_PREVIOUS: must be 32 bytes/,
    );
    expect(parseCliEnv(LocalEnvSchema, { SECRETS_KEY: key.toString('base64') }).SECRETS_KEY).toBe(
      key.toString('base64'),
    );
  });
});
