import type { z } from 'zod';
import { ServerError } from '../errors.js';

/** Parses a body or query with its schema, or throws VALIDATION_FAILED listing every issue. */
export function parse<T extends z.ZodType>(
  schema: T,
  input: unknown,
  where: 'body' | 'query' | 'params',
): z.output<T> {
  const result = schema.safeParse(input ?? (where === 'body' ? undefined : {}));
  if (result.success) return result.data;
  throw new ServerError('VALIDATION_FAILED', `invalid request ${where}`, {
    issues: result.error.issues.map((issue) => ({
      path: [where, ...issue.path.map(String)].join('.'),
      code: issue.code,
      message: issue.message,
    })),
  });
}
