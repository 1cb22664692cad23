import type { z } from 'zod';

/** A zod error as one line: each issue as `path: message`, for refusals that name the field at fault. */
export function describeZodError(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}
