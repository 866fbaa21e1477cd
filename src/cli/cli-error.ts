/** A mistake the user can fix (bad option, unknown tenant, …): printed as one line, exit code 1, no stack. */
export class CliError extends Error {
  override readonly name = 'CliError';
}
