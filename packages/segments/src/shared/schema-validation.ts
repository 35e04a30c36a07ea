import { ValidationError } from '@silt/fs';
import type { z } from 'zod';

/**
 * Checks `value` against a zod schema, or throws one ValidationError that
 * names every problem and where it is (`invalid index options:
 * memtableBytes: Too small: ...`). Every zod-checked option and argument
 * goes through here, so all of them read the same way.
 */
export function parseWithSchema<Schema extends z.ZodType>(schema: Schema, value: unknown, what: string): z.output<Schema> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(`invalid ${what}: ${describeIssues(result.error)}`);
  return result.data;
}

/** One line a person can act on, from zod's issues. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => (issue.path.length === 0 ? issue.message : `${issue.path.join('.')}: ${issue.message}`)).join('; ');
}
