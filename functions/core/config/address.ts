import { CONTROL_CHARACTER_MESSAGE, hasControlCharacters } from '../../kernel/header-safety.js';

// A plain `local@domain` address: what the sender, the admin contacts and the XOAUTH2 user are.

export const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})+$`);
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/** Why `value` is not a plain `local@domain` address, or undefined when it is one. */
export function addressProblem(value: string): string | undefined {
  if (hasControlCharacters(value)) return CONTROL_CHARACTER_MESSAGE;
  const at = value.lastIndexOf('@');
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (at < 1 || value.length > 254 || local.length > 64 || !LOCAL_PART.test(local) || !DOMAIN.test(domain)) {
    // Quoted cut: the message must not echo a 100 KB value back.
    const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
    return `"${shown}" is not an email address like name@example.com`;
  }
  return undefined;
}
