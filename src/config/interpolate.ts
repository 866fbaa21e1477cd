import { formatPath, type ConfigIssue, type PathSegment } from './format-errors.js';

/** A whole-string `${VAR}` whose value looked like a number or boolean and was converted. */
export interface Coercion {
  readonly path: readonly PathSegment[];
  /** The interpolated text, to put back if the field turns out to want a string. */
  readonly text: string;
  readonly value: number | boolean;
}

export interface InterpolationResult {
  readonly value: unknown;
  readonly issues: ConfigIssue[];
  readonly coercions: Coercion[];
}

// `$${` is an escaped literal `${`; `${...}` a reference, possibly unterminated (an error).
const TOKEN = /\$\$\{|\$\{([^}]*)(\})?/g;
const EXPRESSION = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;
const WHOLE = /^\$\{[^}]*\}$/;
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * Expands `${VAR}` and `${VAR:-default}` in one string. Like the shell, `:-` takes the default
 * when the variable is unset *or empty*; an unset variable without a default is an error.
 *
 * @example expandString('http://${HOST:-localhost}:$${PORT}', {}) // → { text: 'http://localhost:${PORT}', errors: [] }
 */
export function expandString(input: string, env: NodeJS.ProcessEnv): { text: string; errors: string[] } {
  const errors: string[] = [];
  const text = input.replace(TOKEN, (match, expression: string | undefined, closed: string | undefined) => {
    if (match === '$${') return '${';
    if (closed === undefined) {
      errors.push(`unterminated "\${" (write "$\${" for a literal "\${")`);
      return match;
    }
    const parsed = EXPRESSION.exec(expression ?? '');
    if (!parsed) {
      errors.push(`malformed reference "\${${expression}}": expected \${NAME} or \${NAME:-default}`);
      return match;
    }
    const [, name = '', fallback] = parsed;
    const value = env[name];
    if (fallback !== undefined) return value ? value : fallback;
    if (value === undefined) {
      errors.push(`environment variable ${name} is not set`);
      return match;
    }
    return value;
  });
  return { text, errors };
}

/**
 * Expands references in every string value of a parsed YAML tree (keys are left alone: they
 * are names, not values). When a string is exactly one `${...}` and expands to a JSON number or
 * boolean, the value becomes that number or boolean, so `port: ${PORT}` type-checks; the loader
 * puts the text back if the field wanted a string after all (an API key that is all digits).
 */
export function interpolate(tree: unknown, env: NodeJS.ProcessEnv): InterpolationResult {
  const issues: ConfigIssue[] = [];
  const coercions: Coercion[] = [];

  const visit = (value: unknown, path: PathSegment[]): unknown => {
    if (typeof value === 'string') {
      if (!value.includes('${')) return value;
      const { text, errors } = expandString(value, env);
      for (const message of errors) issues.push({ path: formatPath(path), message });
      if (errors.length === 0 && WHOLE.test(value)) {
        const typed = JSON_NUMBER.test(text) ? Number(text) : text === 'true' ? true : text === 'false' ? false : null;
        if (typed !== null) {
          coercions.push({ path, text, value: typed });
          return typed;
        }
      }
      return text;
    }
    if (Array.isArray(value)) return value.map((item, index) => visit(item, [...path, index]));
    if (isPlainObject(value)) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, visit(item, [...path, key])]));
    }
    return value;
  };

  return { value: visit(tree, []), issues, coercions };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
