/** One thing wrong with the configuration: where (`models.gpt-4o.deployments.0.provider`) and why. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * The configuration could not be loaded. It carries every problem found — schema violations,
 * unset `${VAR}`s, unreadable secrets — so an operator fixes them in one round, not one per
 * restart. The message never contains a secret value: issues name variables, files and Vault
 * paths, never what they hold.
 *
 * @example
 * try { await loadConfig({}) } catch (err) {
 *   if (err instanceof ConfigError) for (const { path, message } of err.issues) console.error(path, message);
 * }
 */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], origin?: string) {
    const where = origin ? ` (${origin})` : '';
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super(`invalid configuration${where}, ${count}:\n${issues.map(renderIssue).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

const renderIssue = (issue: ConfigIssue): string => `  ${issue.path ? `${issue.path}: ` : ''}${issue.message}`;
