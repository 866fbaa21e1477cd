import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { embeddedDefault, envOverrides } from './defaults.js';
import { ConfigError, formatPath, fromZodIssues, isAtOrBelow, type ConfigIssue } from './format-errors.js';
import { interpolate, isPlainObject, type Coercion } from './interpolate.js';
import { redactUrlPassword } from './redact-url.js';
import { configSchema, findUnknownProviders, type Config, type ConfigInput } from './schema.js';
import { Secret } from '../core/secret.js';
import { resolveSecretRefs, type ResolveOptions } from './secret-refs.js';

// The CLI catches ConfigError next to loadConfig; one import for both.
export { ConfigError, type ConfigIssue } from './format-errors.js';

/** Every field optional, all the way down; secrets and arrays are replaced whole. */
export type DeepPartial<T> = T extends Secret | readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** What the CLI passes for `--port`, `--host` and the like. */
export type ConfigOverrides = DeepPartial<ConfigInput>;

export interface LoadOptions {
  /** Config file; else `TOLLGATE_CONFIG`, else `./tollgate.yaml` if it exists, else none. */
  path?: string;
  /** Defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Selects the overlay `<name>.<envName>.yaml`; else `TOLLGATE_ENV`. */
  envName?: string;
  /** Merged last, over files and environment variables. */
  overrides?: ConfigOverrides;
  /** For tests: how to reach Vault. */
  vaultReader?: ResolveOptions['vaultReader'];
}

export interface LoadedConfig {
  readonly config: Readonly<Config>;
  readonly source: { readonly files: readonly string[]; readonly embedded: boolean };
  /** Human sentences for the start-up log: which files, which defaults, and why. */
  readonly notes: readonly string[];
}

/**
 * Loads, checks and freezes the configuration: base file, then its environment overlay, then
 * `PORT`/`HOST`/`TOLLGATE_LOG_LEVEL`, then `overrides`; `${VAR}`s expanded, secret references
 * resolved, validated once. Throws `ConfigError` listing every problem found.
 *
 * @example
 * const { config, notes } = await loadConfig({ overrides: { server: { port: 8080 } } });
 */
export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const notes: string[] = [];
  const issues: ConfigIssue[] = [];
  const files: string[] = [];

  const base = locateBaseFile(options.path, env);
  if (base.missing) throw new ConfigError([{ path: '', message: base.missing }]);
  const baseDir = base.file ? dirname(base.file) : process.cwd();
  let tree: unknown = {};
  if (base.file) {
    tree = mergeConfig(tree, readYaml(base.file, issues));
    files.push(base.file);
  }

  const envName = options.envName ?? env.TOLLGATE_ENV;
  if (envName && !/^[A-Za-z0-9_-]+$/.test(envName)) {
    issues.push({ path: '', message: `environment name "${envName}" may only use letters, digits, _ and -` });
  } else if (envName) {
    const overlay = overlayPath(base.file ?? resolve('tollgate.yaml'), envName);
    if (existsSync(overlay)) {
      tree = mergeConfig(tree, readYaml(overlay, issues));
      files.push(overlay);
    } else {
      notes.push(`environment "${envName}": no overlay file ${overlay}, using the base configuration alone`);
    }
  }
  if (issues.length > 0) throw new ConfigError(issues, files.join(' + '));

  const interpolated = interpolate(tree, env);
  issues.push(...interpolated.issues);
  const secrets = await resolveSecretRefs(interpolated.value, { env, baseDir, vaultReader: options.vaultReader });
  issues.push(...secrets.issues);
  tree = secrets.value;

  const overrides = options.overrides ?? {};
  const fromEnv = envOverrides(env, {
    port: overrides.server?.port,
    host: overrides.server?.host,
    logLevel: overrides.log?.level,
  });
  issues.push(...fromEnv.issues);
  for (const [path, variable] of fromEnv.origins) notes.push(`${path} set by environment variable ${variable}`);
  tree = mergeConfig(mergeConfig(tree, fromEnv.values), overrides);

  const embedded = !configures(tree, 'providers') && !configures(tree, 'models');
  if (embedded) {
    const defaults = embeddedDefault(env);
    tree = mergeConfig(tree, { providers: defaults.providers, models: defaults.models });
    notes.push(base.file ? `${base.file} configures no providers or models: using the embedded default` : base.note);
    notes.push(defaults.note);
  }

  const config = validate(tree, interpolated.coercions, issues, fromEnv.origins, files.join(' + '));
  return { config: deepFreeze(config), source: { files, embedded }, notes };
}

/**
 * The effective configuration as YAML, secrets shown as `[redacted] (source)`: what
 * `tollgate config check --print` shows. Never reveals a secret value.
 */
export function printableConfig(config: Config): string {
  const visit = (value: unknown): unknown => {
    if (value instanceof Secret) return `[redacted] (${value.source})`;
    if (typeof value === 'string') return redactUrlPassword(value);
    if (Array.isArray(value)) return value.map(visit);
    if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v)]));
    return value;
  };
  return stringify(visit(config), { lineWidth: 0 });
}

function locateBaseFile(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
): { file?: string; missing?: string; note: string } {
  const named = explicit ?? env.TOLLGATE_CONFIG;
  if (named) {
    const file = resolve(named);
    const via = explicit ? '' : ' (from TOLLGATE_CONFIG)';
    return existsSync(file) ? { file, note: '' } : { missing: `config file ${file}${via} does not exist`, note: '' };
  }
  const file = resolve('tollgate.yaml');
  if (existsSync(file)) return { file, note: '' };
  return { note: `no config file (TOLLGATE_CONFIG unset, ${file} not found): using the embedded default` };
}

/** `config/tollgate.yaml` + `staging` → `config/tollgate.staging.yaml`; other base names likewise. */
export function overlayPath(baseFile: string, envName: string): string {
  const extension = extname(baseFile) || '.yaml';
  return join(dirname(baseFile), `${basename(baseFile, extname(baseFile))}.${envName}${extension}`);
}

function readYaml(file: string, issues: ConfigIssue[]): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    issues.push({ path: '', message: `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
    return {};
  }
  // `merge: true` allows `<<: *anchor`, the usual way to share provider settings in YAML.
  const document = parseDocument(text, { merge: true, prettyErrors: true });
  // After the first syntax error the parser's later complaints are mostly echoes of it.
  for (const error of document.errors.slice(0, 3)) issues.push({ path: '', message: `${file}: ${error.message}` });
  if (document.errors.length > 0) return {};
  const value: unknown = document.toJS();
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) issues.push({ path: '', message: `${file}: the top level must be a mapping of settings` });
  return value;
}

/**
 * Deep merge for config layers: maps merge, arrays and scalars replace, `null` deletes the key
 * (so an overlay can remove what the base set, and an empty YAML value means "default").
 * A secret reference or `Secret` replaces whole: merging `{env: A}` into `{file: b}` would
 * otherwise make a two-key map that is neither.
 */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (over === undefined) return stripNulls(base);
  if (!isPlainObject(over) || !isPlainObject(base) || isReference(over) || isReference(base)) return stripNulls(over);
  const merged: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(base), ...Object.keys(over)])) {
    const value =
      key in over ? (over[key] === null ? undefined : mergeConfig(base[key], over[key])) : stripNulls(base[key]);
    if (value !== undefined) merged[key] = value;
  }
  return merged;
}

const isReference = (value: Record<string, unknown>): boolean =>
  Object.keys(value).length === 1 && ('env' in value || 'file' in value || 'vault' in value);

function stripNulls(value: unknown): unknown {
  if (value === null) return undefined;
  if (Array.isArray(value)) return (value as unknown[]).map((item) => (item === null ? item : stripNulls(item)));
  if (!isPlainObject(value)) return value;
  const entries = Object.entries(value).map(([key, item]) => [key, stripNulls(item)] as const);
  return Object.fromEntries(entries.filter(([, item]) => item !== undefined));
}

function configures(tree: unknown, key: 'providers' | 'models'): boolean {
  const value = isPlainObject(tree) ? tree[key] : undefined;
  return value !== undefined && !(isPlainObject(value) && Object.keys(value).length === 0);
}

function validate(
  tree: unknown,
  coercions: readonly Coercion[],
  earlier: ConfigIssue[],
  origins: ReadonlyMap<string, string>,
  files: string,
): Config {
  let result = configSchema.safeParse(tree);
  if (!result.success) {
    // A whole-string `${VAR}` became a number or boolean; where the field wanted text, undo it.
    const failed = new Set(result.error.issues.map((issue) => formatPath(issue.path)));
    const undo = coercions.filter((c) => failed.has(formatPath(c.path)) && getAt(tree, c.path) === c.value);
    for (const coercion of undo) setAt(tree, coercion.path, coercion.text);
    if (undo.length > 0) result = configSchema.safeParse(tree);
  }
  const schemaIssues = result.success ? [] : [...fromZodIssues(result.error.issues), ...crossCheck(tree)];
  // Once a value failed to resolve, the schema's complaint about the placeholder left behind is noise.
  const fresh = schemaIssues.filter((issue) => !earlier.some((e) => e.path && isAtOrBelow(issue.path, e.path)));
  const all = dedupe([...earlier, ...fresh]).map((issue) => {
    const variable = origins.get(issue.path);
    return variable && !issue.message.includes(variable)
      ? { ...issue, message: `${issue.message} (from ${variable})` }
      : issue;
  });
  if (all.length > 0 || !result.success) throw new ConfigError(all, files || 'embedded default');
  return result.data;
}

// zod skips the schema's own cross-check while other issues exist; run it on the raw tree.
const crossCheck = (tree: unknown): ConfigIssue[] =>
  findUnknownProviders(tree).map((issue) => ({ path: formatPath(issue.path), message: issue.message }));

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const id = `${issue.path}\n${issue.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function getAt(tree: unknown, path: readonly (string | number)[]): unknown {
  let current = tree;
  for (const segment of path) {
    current =
      isPlainObject(current) || Array.isArray(current) ? (current as Record<string, unknown>)[segment] : undefined;
  }
  return current;
}

function setAt(tree: unknown, path: readonly (string | number)[], value: unknown): void {
  const parent = getAt(tree, path.slice(0, -1));
  const last = path[path.length - 1];
  if (last !== undefined && (isPlainObject(parent) || Array.isArray(parent)))
    (parent as Record<string, unknown>)[last] = value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (!(value instanceof Secret)) for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
