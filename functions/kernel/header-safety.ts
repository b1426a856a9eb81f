// Anything that can end up in a mail header must be a single line of printable text:
// a CR or LF would let a value start a new header (header injection), and other control
// characters are never legitimate in addresses or names.
// C0 controls, DEL, C1 controls, and the Unicode line/paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export const CONTROL_CHARACTER_MESSAGE = 'must not contain control characters (CR, LF, TAB or similar)';

export function hasControlCharacters(value: string): boolean {
  return CONTROL_CHARACTERS.test(value);
}
