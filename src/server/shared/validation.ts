import type { z } from 'zod';
import { invalidRequest } from './errors';

/** Parses `input` with `schema`; a failure is a 400 whose message names the first bad field and whose details list all. */
export function validate<S extends z.ZodType>(schema: S, input: unknown, what = 'request body'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.map(String).join('.') : what,
    message: issue.message,
  }));
  const first = issues[0] ?? { path: what, message: 'is invalid' };
  throw invalidRequest(`${first.path}: ${first.message}`, { issues });
}
