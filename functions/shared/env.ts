import type { z } from 'zod';
import { formatIssues, issuesFromZod } from '../kernel/field-issues.js';

/**
 * Validates a function's environment at cold start. A missing or malformed variable stops the
 * function with one message that names every problem, instead of failing later mid-request.
 */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
  functionName: string,
): z.output<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new Error(`${functionName}: invalid environment: ${formatIssues(issuesFromZod(result.error))}`);
  }
  return result.data;
}
