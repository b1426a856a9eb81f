import { CONTROL_CHARACTER_MESSAGE, hasControlCharacters } from '../../kernel/header-safety.js';
import { hasInvisibleCharacters, INVISIBLE_CHARACTER_MESSAGE } from '../../kernel/invisible-characters.js';
import { addressProblem } from './address.js';

// The sender as an admin writes it: `addr@example.com` or `Display Name <addr@example.com>`.
// Parsed by index lookups, not a backtracking regex: the regex it replaces took seconds on a
// sender of a few hundred kilobytes of spaces, and blocked the event loop meanwhile.

export const MAX_DISPLAY_NAME_LENGTH = 200;

export interface Mailbox {
  name?: string;
  address: string;
}

/** Parses `addr@example.com` or `Display Name <addr@example.com>` (quotes around the name allowed); a string says why not. */
export function parseMailbox(value: string): Mailbox | string {
  if (hasControlCharacters(value)) return CONTROL_CHARACTER_MESSAGE;
  if (hasInvisibleCharacters(value)) return INVISIBLE_CHARACTER_MESSAGE;
  const trimmed = value.trim();
  const open = trimmed.endsWith('>') ? trimmed.lastIndexOf('<') : -1;
  // No `<...>` at the end, or a `>` inside it: the whole value must then be a plain address.
  if (open < 0 || trimmed.indexOf('>', open) !== trimmed.length - 1) {
    return addressProblem(trimmed) ?? { address: trimmed };
  }
  const address = trimmed.slice(open + 1, -1).trim();
  const rawName = trimmed.slice(0, open).trim();
  const quoted = rawName.length >= 2 && rawName.startsWith('"') && rawName.endsWith('"');
  const name = (quoted ? rawName.slice(1, -1) : rawName).trim();
  if (/["<>\\]/.test(name)) return 'the display name must not contain quotes, angle brackets or backslashes';
  if (name.length > MAX_DISPLAY_NAME_LENGTH) {
    return `the display name must be at most ${MAX_DISPLAY_NAME_LENGTH} characters (it has ${name.length})`;
  }
  const problem = addressProblem(address);
  if (problem) return problem;
  // A mail client shows the name, not the address: a name that is an address would be read as the sender.
  if (name && addressProblem(name) === undefined) {
    return `the display name must not be an email address ("${name}"): write a name like "Appliance alerts" <${address}>`;
  }
  return name ? { name, address } : { address };
}

export function formatMailbox(mailbox: Mailbox): string {
  return mailbox.name ? `"${mailbox.name}" <${mailbox.address}>` : mailbox.address;
}
