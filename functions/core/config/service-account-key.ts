import * as z from 'zod';
import { parsePrivateKey } from './client-certificate.js';
import { EmailAddressSchema, EndpointUrlSchema, singleLine } from './field-schemas.js';

// The JSON key of a Google service account (IAM & Admin > Service accounts > Keys > Add key >
// JSON), for the JWT bearer grant with domain-wide delegation. Stored as Google writes it (the
// fields the grant needs); its private key is write-only, like every secret. GET shows the
// key's facts in camelCase with `privateKeySet`, and that view is accepted back: the stored
// private key is kept when it is the same key (secrets.ts).

const MAX_KEY_TEXT = 20_000;
const MAX_PEM = 16_384;

/** The key as stored: Google's field names; `private_key` absent only in a view sent back before the stored key is merged in. */
export interface ServiceAccountKey {
  type: 'service_account';
  client_email: string;
  /** The service account's numeric unique ID: what the Admin console's domain-wide delegation names. */
  client_id?: string;
  private_key_id: string;
  private_key?: string;
  project_id?: string;
  token_uri?: string;
}

/** What GET shows of the key (the private key itself never). */
export interface ServiceAccountKeyFacts {
  clientEmail: string;
  clientId?: string;
  privateKeyId: string;
  projectId?: string;
  privateKeySet: boolean;
}

export function serviceAccountKeyFacts(key: ServiceAccountKey): ServiceAccountKeyFacts {
  return {
    clientEmail: key.client_email,
    ...(key.client_id !== undefined ? { clientId: key.client_id } : {}),
    privateKeyId: key.private_key_id,
    ...(key.project_id !== undefined ? { projectId: key.project_id } : {}),
    privateKeySet: Boolean(key.private_key),
  };
}

const KeyId = z
  .string({ error: 'must be the key ID (private_key_id of the JSON key)' })
  .regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be the key ID (private_key_id of the JSON key): letters and digits');

const ClientId = z
  .string({ error: "must be the service account's unique ID (client_id of the JSON key)" })
  .regex(/^[A-Za-z0-9._-]{1,256}$/, "must be the service account's unique ID (client_id of the JSON key)");

/** A pasted key sometimes carries its line breaks as the two characters `\n` (from an environment variable). */
const unescapeNewlines = (pem: string) => (/\n/.test(pem) ? pem : pem.replace(/\\n/g, '\n'));

const PrivateKey = z
  .string({ error: 'must be the PEM private key of the JSON key ("-----BEGIN PRIVATE KEY-----…")' })
  .max(MAX_PEM, `must be at most ${MAX_PEM} characters`)
  .transform((pem) => unescapeNewlines(pem).trim())
  .superRefine((pem, ctx) => {
    const key = parsePrivateKey(pem);
    if (typeof key === 'string') ctx.addIssue({ code: 'custom', message: key });
  });

/** The JSON key as Google writes it; fields the grant does not need (auth_uri, the certificate URLs, ...) are dropped. */
const GoogleKeySchema = z
  .looseObject({
    type: z.unknown(),
    client_email: EmailAddressSchema.optional(),
    client_id: ClientId.optional(),
    private_key_id: KeyId.optional(),
    private_key: PrivateKey.optional(),
    project_id: singleLine(256).optional(),
    token_uri: EndpointUrlSchema.optional(),
  })
  .superRefine((key, ctx) => {
    if (key.type !== 'service_account') {
      ctx.addIssue({
        code: 'custom',
        path: ['type'],
        message:
          key.type === 'authorized_user'
            ? 'is "authorized_user": that file holds a user\'s credentials, not a service account key; create a JSON key for the service account (IAM & Admin > Service accounts > Keys)'
            : 'must be "service_account": save the JSON key of the service account (IAM & Admin > Service accounts > Keys > Add key > JSON)',
      });
    }
    const required = {
      client_email: "is required: the service account's email address",
      private_key_id: "is required: the key's ID",
      private_key: 'is required: the PEM private key (save the whole JSON key file as downloaded)',
    } as const;
    for (const [field, message] of Object.entries(required)) {
      if (key[field as keyof typeof required] === undefined)
        ctx.addIssue({ code: 'custom', path: [field], message });
    }
  })
  .transform(
    (key): ServiceAccountKey => ({
      type: 'service_account',
      client_email: key.client_email ?? '',
      ...(key.client_id !== undefined ? { client_id: key.client_id } : {}),
      private_key_id: key.private_key_id ?? '',
      ...(key.private_key !== undefined ? { private_key: key.private_key } : {}),
      ...(key.project_id !== undefined ? { project_id: key.project_id } : {}),
      ...(key.token_uri !== undefined ? { token_uri: key.token_uri } : {}),
    }),
  );

/** GET's view of the key, sent back: the stored private key is kept when it is the same key. */
const KeyViewSchema = z
  .strictObject({
    clientEmail: EmailAddressSchema,
    clientId: ClientId.optional(),
    privateKeyId: KeyId,
    projectId: singleLine(256).optional(),
    privateKeySet: z.unknown().optional(),
  })
  .transform(
    (view): ServiceAccountKey => ({
      type: 'service_account',
      client_email: view.clientEmail,
      ...(view.clientId !== undefined ? { client_id: view.clientId } : {}),
      private_key_id: view.privateKeyId,
      ...(view.projectId !== undefined ? { project_id: view.projectId } : {}),
    }),
  );

const SHAPE_MESSAGE =
  'must be the service account\'s JSON key (the object, or its text as downloaded: { "type": "service_account", "client_email": …, "private_key_id": …, "private_key": … })';

function parseKeyText(value: unknown, ctx: z.RefinementCtx): Record<string, unknown> | undefined {
  let parsed: unknown = value;
  if (typeof value === 'string') {
    if (value.length > MAX_KEY_TEXT) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_KEY_TEXT} characters` });
      return undefined;
    }
    try {
      parsed = JSON.parse(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `is not JSON: ${SHAPE_MESSAGE}` });
      return undefined;
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    ctx.addIssue({ code: 'custom', message: SHAPE_MESSAGE });
    return undefined;
  }
  const object = parsed as Record<string, unknown>;
  if ('web' in object || 'installed' in object) {
    ctx.addIssue({
      code: 'custom',
      message:
        'is an OAuth client file (client_secret….json), not a service account key: create a JSON key for the service account (IAM & Admin > Service accounts > Keys), or use flow "authorization-code" with this client',
    });
    return undefined;
  }
  return object;
}

/**
 * The service account's JSON key: the object or its JSON text, as downloaded; or GET's view of
 * it (`{ clientEmail, privateKeyId, …, privateKeySet }`) to keep the stored key.
 */
export const ServiceAccountKeySchema = z.unknown().transform((value, ctx): ServiceAccountKey => {
  const object = parseKeyText(value, ctx);
  if (object === undefined) return z.NEVER;
  const isView = !('type' in object) && ('clientEmail' in object || 'privateKeySet' in object);
  const result = (isView ? KeyViewSchema : GoogleKeySchema).safeParse(object);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    ctx.addIssue({ code: 'custom', path: issue.path as (string | number)[], message: issue.message });
  }
  return z.NEVER;
});
