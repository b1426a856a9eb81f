import { isIP } from 'node:net';
import * as z from 'zod';
import { CONTROL_CHARACTER_MESSAGE, hasControlCharacters } from '../../kernel/header-safety.js';

// The field types the configuration document is built from: addresses, hosts, ports, URLs,
// scopes and write-only secrets, each with the message an admin sees.

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})+$`);
const HOSTNAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*\\.?$`);
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/** Why `value` is not a plain `local@domain` address, or undefined when it is one. */
export function addressProblem(value: string): string | undefined {
  if (hasControlCharacters(value)) return CONTROL_CHARACTER_MESSAGE;
  const at = value.lastIndexOf('@');
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (at < 1 || value.length > 254 || local.length > 64 || !LOCAL_PART.test(local) || !DOMAIN.test(domain)) {
    return `"${value}" is not an email address like name@example.com`;
  }
  return undefined;
}

export interface Mailbox {
  name?: string;
  address: string;
}

/** Parses `addr@example.com` or `Display Name <addr@example.com>` (quotes around the name allowed). */
export function parseMailbox(value: string): Mailbox | string {
  if (hasControlCharacters(value)) return CONTROL_CHARACTER_MESSAGE;
  const trimmed = value.trim();
  const named = /^(.*?)\s*<([^<>]*)>$/.exec(trimmed);
  if (!named) {
    return addressProblem(trimmed) ?? { address: trimmed };
  }
  const rawName = (named[1] ?? '').trim();
  const address = (named[2] ?? '').trim();
  const name = rawName.replace(/^"(.*)"$/, '$1').trim();
  if (/["<>\\]/.test(name)) return 'the display name must not contain quotes, angle brackets or backslashes';
  const problem = addressProblem(address);
  if (problem) return problem;
  return name ? { name, address } : { address };
}

export function formatMailbox(mailbox: Mailbox): string {
  return mailbox.name ? `"${mailbox.name}" <${mailbox.address}>` : mailbox.address;
}

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
export const PortSchema = z.preprocess(
  (v) => (typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v),
  z
    .number({ error: 'must be a port number between 1 and 65535' })
    .int('must be a whole number')
    .min(1, PORT_MESSAGE)
    .max(65535, PORT_MESSAGE),
);

/**
 * A whole number from `min` to `max`, from a JSON number or a numeric string (as a form sends it),
 * with the messages an admin sees: `unit` names what is counted ("seconds", "minutes").
 */
export const wholeNumber = (min: number, max: number, unit: string, range = `between ${min} and ${max}`) => {
  const rangeMessage = `must be ${range}`;
  return z.preprocess(
    (v) => (typeof v === 'string' && /^\s*-?\d+(?:\.\d+)?\s*$/.test(v) ? Number(v) : v),
    z
      .number({ error: `must be a number of ${unit}` })
      .int('must be a whole number')
      .min(min, rangeMessage)
      .max(max, rangeMessage),
  );
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
