// The query parameters of a paged list route (the delivery log, the audit trail): `limit`, and
// `cursor`, the opaque `nextCursor` of the page before, decoded into the list's own position.
import * as z from 'zod';

/** `limit`: 1 to 500, 50 when left out. */
export const pageLimitParam = () =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be between 1 and 500')
    .max(500, 'must be between 1 and 500')
    .default(50);

/** `cursor`: decoded with `decode`; one it cannot decode is a field error, never a 500. */
export const pageCursorParam = <P>(decode: (cursor: string) => P | undefined, description: string) =>
  z
    .string()
    .describe(description)
    .transform((value, context): P => {
      const position = decode(value);
      if (!position) {
        context.addIssue({ code: 'custom', message: 'must be the nextCursor of an earlier page' });
        return z.NEVER;
      }
      return position;
    })
    .optional();
