import type { z } from 'zod';

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * Validates a form with the API's own zod schema, so the UI refuses exactly what the service
 * would, and names the field at fault ("effortWeeks", "capacity.commitmentShare").
 */
export function validateWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
): { ok: true; value: z.output<S> } | { ok: false; errors: Record<string, string> } {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  const errors: Record<string, string> = {};
  for (const issue of result.error.issues) {
    const key = issue.path.length === 0 ? '_form' : issue.path.map(String).join('.');
    // zod's wording for an absent value ("expected number, received undefined") reads badly on a form.
    const missing = issue.path.length > 0 && issue.code !== 'custom' && valueAt(input, issue.path) === undefined;
    errors[key] ??= missing ? 'is required' : issue.message;
  }
  return { ok: false, errors };
}

/** How a HubSpot input shows a field's error: flagged, with the message under it (none when the field is fine). */
export function errorProps(errors: Record<string, string>, field: string): { error: boolean; validationMessage: string | undefined } {
  const message = errors[field];
  return { error: message !== undefined, validationMessage: message };
}
