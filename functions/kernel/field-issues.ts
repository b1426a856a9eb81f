import type { z } from 'zod';

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `smtp.port` or `adminContacts.1`. */
  path: string;
  message: string;
}

/** Input that does not satisfy a schema: becomes a 400 with the field issues. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    message: string,
    readonly issues: FieldIssue[],
  ) {
    super(message);
  }

  static fromZod(
    error: z.ZodError,
    message = 'Invalid request body',
    pathPrefix: string[] = [],
  ): ValidationError {
    return new ValidationError(message, issuesFromZod(error, pathPrefix));
  }
}

export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

export function issuesFromZod(error: z.ZodError, pathPrefix: string[] = []): FieldIssue[] {
  const pathOf = (segments: PropertyKey[]) => [...pathPrefix, ...segments.map(String)].join('.') || '(root)';
  return error.issues.flatMap((issue) =>
    // One issue per unknown key, at the key's own path: `smtp.prot: is not a known field`.
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: pathOf([...issue.path, key]), message: 'is not a known field' }))
      : [{ path: pathOf(issue.path), message: issue.message }],
  );
}

/** `smtp.port: must be between 1 and 65535; sender: ...` for logs and one-line messages. */
export function formatIssues(issues: FieldIssue[]): string {
  return issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
}

/**
 * Parses stored text as JSON and checks it against `schema`. The errors name `where` and never
 * quote the text (JSON.parse's message quotes the text around the error, and stored documents
 * hold secrets: passwords, client secrets, refresh tokens).
 */
export function parseStoredJson<S extends z.ZodType>(text: string, schema: S, where: string): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${where} is not valid JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new Error(`${where} is invalid: ${formatIssues(issuesFromZod(parsed.error))}`);
  return parsed.data;
}
