// Text an admin reads (a sender's display name, an event id in the delivery log) must show what
// it is. Bidirectional controls reorder what is displayed ("Trojan Source", CVE-2021-42574), and
// zero-width characters make two different values look the same; neither has a place in a name,
// an address or an id. Control characters are header-safety.ts's concern.

// U+061C ARABIC LETTER MARK, U+200B-U+200D zero-width space/non-joiner/joiner, U+200E/U+200F
// LRM/RLM, U+202A-U+202E embeddings and overrides, U+2060 WORD JOINER, U+2066-U+2069 isolates,
// U+FEFF zero-width no-break space (BOM).
const INVISIBLE_CHARACTERS = /[\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/;

export const INVISIBLE_CHARACTER_MESSAGE =
  'must not contain invisible or direction-changing characters (zero-width or bidirectional controls)';

export function hasInvisibleCharacters(value: string): boolean {
  return INVISIBLE_CHARACTERS.test(value);
}
