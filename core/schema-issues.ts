import type { z } from 'zod';

/**
 * Schema failures in the words users see ("repo: expected …"), one entry per problem. Pure, so workflow
 * code, activities and the gateway all word bad input the same way.
 */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`);
}
