import { isIP } from 'node:net';
import * as z from 'zod';
import { CONTROL_CHARACTER_MESSAGE, hasControlCharacters } from '../../kernel/header-safety.js';
import { addressProblem, LABEL } from './address.js';
import { formatMailbox, parseMailbox } from './mailbox.js';

// The field types the configuration document is built from: addresses, hosts, ports, URLs,
// scopes and write-only secrets, each with the message an admin sees.

const HOSTNAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*\\.?$`);

export { addressProblem } from './address.js';
export { formatMailbox, type Mailbox, parseMailbox } from './mailbox.js';

/** One line of printable text, trimmed; control characters are rejected, not stripped. */
export const singleLine = (max: number) =>
  z
    .string()
    .refine((s) => !hasControlCharacters(s), CONTROL_CHARACTER_MESSAGE)
    .transform((s) => s.trim())
    .pipe(z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`));

export const EmailAddressSchema = z.string().transform((value, ctx) => {
  const trimmed = hasControlCharacters(value) ? value : value.trim();
  const problem = addressProblem(trimmed);
  if (problem) {
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return trimmed;
});

export const SenderSchema = z.string({ error: 'must be an email address' }).transform((value, ctx) => {
  const parsed = parseMailbox(value);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }
  return formatMailbox(parsed);
});

const MAX_CONTACTS = 50;

/** Space-separated (the seed's form; commas tolerated) or an array; normalized to a deduplicated array. */
export const AdminContactsSchema = z
  .union([z.string(), z.array(z.string())], {
    error: 'must be email addresses separated by spaces, or an array of addresses',
  })
  .transform((value, ctx) => {
    if (typeof value === 'string' && hasControlCharacters(value)) {
      ctx.addIssue({ code: 'custom', message: CONTROL_CHARACTER_MESSAGE });
      return z.NEVER;
    }
    return typeof value === 'string' ? value.split(/[ ,;]+/).filter(Boolean) : value;
  })
  .pipe(
    z
      .array(EmailAddressSchema)
      .min(1, 'at least one admin contact address is required')
      .max(MAX_CONTACTS, `at most ${MAX_CONTACTS} addresses`),
  )
  .transform((addresses) => {
    const seen = new Set<string>();
    return addresses.filter((a) => {
      const key = a.toLowerCase();
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  });

export const HostSchema = z
  .string({ error: 'must be a hostname or an IP address' })
  .transform((value, ctx) => {
    const host = value.trim().replace(/^\[(.*)\]$/, '$1');
    if (hasControlCharacters(value) || !(HOSTNAME.test(host) || isIP(host) !== 0)) {
      ctx.addIssue({ code: 'custom', message: 'must be a hostname or an IP address' });
      return z.NEVER;
    }
    return host;
  });

const PORT_MESSAGE = 'must be between 1 and 65535';

/** A JSON number only: `"25"` is refused, so a document means one thing whoever reads it. */
const NUMERIC_TEXT = /^\s*-?\d+(?:\.\d+)?\s*$/;
const numberError = (expected: string) => (issue: { input?: unknown }) =>
  typeof issue.input === 'string' && NUMERIC_TEXT.test(issue.input)
    ? `must be a number, not a string: write ${issue.input.trim()} without quotes`
    : `must be ${expected}`;

export const PortSchema = z
  .number({ error: numberError('a port number between 1 and 65535') })
  .int('must be a whole number')
  .min(1, PORT_MESSAGE)
  .max(65535, PORT_MESSAGE);

/**
 * A whole number from `min` to `max`, as a JSON number, with the messages an admin sees: `unit`
 * names what is counted ("seconds", "minutes").
 */
export const wholeNumber = (min: number, max: number, unit: string, range = `between ${min} and ${max}`) => {
  const rangeMessage = `must be ${range}`;
  return z
    .number({ error: numberError(`a number of ${unit}`) })
    .int('must be a whole number')
    .min(min, rangeMessage)
    .max(max, rangeMessage);
};

const isLoopbackHost = (hostname: string) =>
  hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);

/** HTTPS, except on loopback (local development and tests against a mock provider). */
export const EndpointUrlSchema = z.string().transform((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
    return z.NEVER;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    ctx.addIssue({ code: 'custom', message: 'must be an https:// URL' });
    return z.NEVER;
  }
  if (url.username || url.password) {
    ctx.addIssue({ code: 'custom', message: 'must not contain credentials' });
    return z.NEVER;
  }
  return url.toString();
});

export const ScopesSchema = z
  .union([z.string(), z.array(z.string())], { error: 'must be scopes separated by spaces, or an array' })
  .transform((v) => (typeof v === 'string' ? v.split(/ +/) : v).map((s) => s.trim()).filter(Boolean))
  .pipe(
    z
      .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'is not a valid OAuth scope'))
      .min(1, 'at least one scope is required'),
  );

export const SecretSchema = z
  .string()
  .max(4096, 'must be at most 4096 characters')
  .refine((s) => !/[\r\n\0]/.test(s), 'must not contain line breaks')
  // An empty secret means "keep the stored one", as on the seed's page.
  .transform((s) => (s === '' ? undefined : s))
  .optional();

// Read-only fields that GET returns; a client may send the document back unchanged.
export const readOnly = { passwordSet: z.unknown().optional(), clientSecretSet: z.unknown().optional() };
