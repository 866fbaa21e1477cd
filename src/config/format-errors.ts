import type { z } from 'zod';
import type { ConfigIssue } from '../core/config-error.js';

export { ConfigError, type ConfigIssue } from '../core/config-error.js';

export type PathSegment = string | number;

/**
 * `['models', 'gpt-4o', 'deployments', 0, 'provider']` → `models.gpt-4o.deployments.0.provider`.
 * Dots inside alias names (`gpt-4.1`) make this ambiguous in theory; in practice operators read
 * these paths, they don't parse them, and the dotted form is what they expect.
 */
export function formatPath(segments: readonly PropertyKey[]): string {
  return segments.map(String).join('.');
}

/** Zod's issues as ours: one issue per unknown key, messages in lower case like the rest. */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  return issues.flatMap((issue): ConfigIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: 'unknown setting' }));
    }
    if (issue.code === 'invalid_union' && issue.discriminator && 'options' in issue && issue.options) {
      return [{ path: formatPath(issue.path), message: `must be one of: ${issue.options.map(String).join(', ')}` }];
    }
    return [{ path: formatPath(issue.path), message: lowerFirst(issue.message) }];
  });
}

/** Issues at `path` or below it, e.g. to drop schema complaints about a value whose resolution already failed. */
export function isAtOrBelow(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}.`);
}

const lowerFirst = (text: string): string => text.charAt(0).toLowerCase() + text.slice(1);
