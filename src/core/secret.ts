import { z } from 'zod';
import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A secret value (API key, token, password). It prints as `[redacted]` everywhere — string
 * conversion, JSON, `util.inspect`, pino — so it can travel inside config objects safely.
 * Call `reveal()` only at the point of use (an Authorization header).
 */
export class Secret {
  readonly #value: string;
  /** Where it came from (`env:OPENAI_API_KEY`, `file:/run/secrets/x`, `vault:kv/app#key`, `inline`). */
  readonly source: string;

  constructor(value: string, source = 'inline') {
    this.#value = value;
    this.source = source;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

export function isSecret(value: unknown): value is Secret {
  return value instanceof Secret;
}

/** A secret: a plain string in the file (discouraged), or a resolved `{env}`/`{file}`/`{vault}` reference. */
export const secretSchema = z.union(
  [
    z.instanceof(Secret),
    z
      .string()
      .min(1)
      .transform((value) => new Secret(value, 'inline')),
  ],
  { error: 'expected a string or a secret reference ({env: NAME}, {file: /path} or {vault: "path#key"})' },
);
