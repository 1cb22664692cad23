import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

/** A zod error as one line: each issue as `path: message`, for refusals that name the field at fault. */
export function describeZodError(error: z.ZodError): string {
  return error.issues.flatMap((i) => describe(i, [])).join('; ');
}

/**
 * A union (`false` or an object, say) that matched no option reports the option that came closest: the one whose
 * issues lie deepest, which for an object is its field at fault rather than "Invalid input".
 */
function describe(issue: Issue, prefix: PropertyKey[]): string[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const depth = (issues: Issue[]) => Math.max(...issues.map((i) => i.path.length));
    const closest = issue.errors.reduce((best, branch) => (depth(branch) > depth(best) ? branch : best));
    if (depth(closest) > 0) return closest.flatMap((i) => describe(i, path));
  }
  return [`${path.length ? path.map(String).join('.') : '(root)'}: ${issue.message}`];
}
