import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { formatPath, type ConfigIssue, type PathSegment } from './format-errors.js';
import { isPlainObject } from './interpolate.js';
import { vaultSchema, type VaultConfig } from './schema.js';
import { Secret } from '../core/secret.js';
import { createVaultReader, describeVaultLocation, type VaultLocation, type VaultReader } from './vault.js';

export type SecretRef =
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'vault'; readonly location: VaultLocation };

/**
 * Recognises a secret reference: a map with exactly one key, `env`, `file` or `vault`, whose
 * value has the right shape. Anything else is ordinary configuration.
 *
 * @example parseSecretRef({ vault: 'tollgate/openai#api_key' }) // → { kind: 'vault', location: { path: 'tollgate/openai', key: 'api_key' } }
 */
export function parseSecretRef(value: unknown): SecretRef | undefined {
  if (!isPlainObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const { env, file, vault } = value;
  if (typeof env === 'string') return { kind: 'env', name: env };
  if (typeof file === 'string') return { kind: 'file', path: file };
  if (typeof vault === 'string') {
    const hash = vault.lastIndexOf('#');
    if (hash <= 0 || hash === vault.length - 1) return undefined;
    return { kind: 'vault', location: { path: vault.slice(0, hash), key: vault.slice(hash + 1) } };
  }
  if (isPlainObject(vault) && typeof vault.path === 'string' && typeof vault.key === 'string') {
    const extra = Object.keys(vault).filter((key) => !['path', 'key', 'mount'].includes(key));
    if (extra.length > 0 || (vault.mount !== undefined && typeof vault.mount !== 'string')) return undefined;
    return { kind: 'vault', location: { path: vault.path, key: vault.key, mount: vault.mount } };
  }
  return undefined;
}

export interface ResolveOptions {
  env: NodeJS.ProcessEnv;
  /** Relative `{file}` paths are taken from here (the base config file's directory). */
  baseDir: string;
  /** For tests: how to reach Vault. */
  vaultReader?: (config: VaultConfig) => VaultReader;
}

interface Found {
  readonly path: PathSegment[];
  readonly ref: SecretRef;
}

/**
 * Replaces every secret reference in the tree by a `Secret`. `vault.token` is resolved first,
 * because reading from Vault needs it. Failures are collected, one issue per reference, so a
 * bad deployment shows all of them at once. The input is not modified.
 */
export async function resolveSecretRefs(
  tree: unknown,
  options: ResolveOptions,
): Promise<{ value: unknown; issues: ConfigIssue[] }> {
  const found = collect(tree);
  const issues: ConfigIssue[] = [];
  const resolved = new Map<string, Secret>();
  const fail = (path: PathSegment[], message: string) => issues.push({ path: formatPath(path), message });
  const tokenKey = keyOf(['vault', 'token']);

  const local = async ({ path, ref }: Found): Promise<void> => {
    try {
      if (ref.kind === 'env') resolved.set(keyOf(path), fromEnv(ref.name, options.env));
      else if (ref.kind === 'file') resolved.set(keyOf(path), await fromFile(ref.path, options.baseDir));
    } catch (err) {
      fail(path, (err as Error).message);
    }
  };

  const tokenRef = found.find((item) => keyOf(item.path) === tokenKey);
  if (tokenRef?.ref.kind === 'vault') fail(tokenRef.path, 'the Vault token cannot itself come from Vault');
  else if (tokenRef) await local(tokenRef);

  const rest = found.filter((item) => item !== tokenRef);
  await Promise.all(rest.filter((item) => item.ref.kind !== 'vault').map(local));

  const fromVault = rest.filter((item) => item.ref.kind === 'vault');
  if (fromVault.length > 0) {
    const section = isPlainObject(tree) ? tree.vault : undefined;
    const token = resolved.get(tokenKey);
    const parsed = vaultSchema.safeParse(isPlainObject(section) ? { ...section, ...(token && { token }) } : section);
    if (!parsed.success) {
      const why =
        section === undefined ? 'there is no top-level vault section (address, token)' : 'the vault section is invalid';
      for (const { path } of fromVault) fail(path, `cannot read from Vault: ${why}`);
    } else {
      const reader = (options.vaultReader ?? createVaultReader)(parsed.data);
      try {
        await Promise.all(
          fromVault.map(async ({ path, ref }) => {
            if (ref.kind !== 'vault') return;
            const source = describeVaultLocation(ref.location, parsed.data.mount);
            try {
              resolved.set(keyOf(path), new Secret(await reader.read(ref.location), source));
            } catch (err) {
              fail(path, `${source}: ${(err as Error).message}`);
            }
          }),
        );
      } finally {
        await reader.close();
      }
    }
  }

  return { value: replace(tree, [], resolved), issues };
}

// Paths as map keys: JSON, not the dotted form, because names may contain dots (`gpt-4.1`).
const keyOf = (path: readonly PathSegment[]): string => JSON.stringify(path);

function fromEnv(name: string, env: NodeJS.ProcessEnv): Secret {
  const value = env[name];
  if (value === undefined) throw new Error(`environment variable ${name} is not set`);
  if (value === '') throw new Error(`environment variable ${name} is empty`);
  return new Secret(value, `env:${name}`);
}

async function fromFile(path: string, baseDir: string): Promise<Secret> {
  const absolute = isAbsolute(path) ? path : resolve(baseDir, path);
  let content: string;
  try {
    content = await readFile(absolute, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot read secret file ${absolute}${code ? ` (${code})` : ''}`, { cause: err });
  }
  // Kubernetes secret mounts and `echo x > file` end in a newline that is not part of the secret.
  const value = content.replace(/\r?\n$/, '');
  if (value === '') throw new Error(`secret file ${absolute} is empty`);
  return new Secret(value, `file:${absolute}`);
}

// The root is never a reference: a file holding only `vault: ...` is a config, not a secret.
function collect(tree: unknown): Found[] {
  const found: Found[] = [];
  const visit = (value: unknown, path: PathSegment[]): void => {
    const ref = path.length > 0 ? parseSecretRef(value) : undefined;
    if (ref) found.push({ path, ref });
    else if (Array.isArray(value)) value.forEach((item, index) => visit(item, [...path, index]));
    else if (isPlainObject(value)) for (const [key, item] of Object.entries(value)) visit(item, [...path, key]);
  };
  visit(tree, []);
  return found;
}

function replace(value: unknown, path: PathSegment[], resolved: ReadonlyMap<string, Secret>): unknown {
  const secret = path.length > 0 ? resolved.get(keyOf(path)) : undefined;
  if (secret) return secret;
  if (Array.isArray(value)) return value.map((item, index) => replace(item, [...path, index], resolved));
  if (isPlainObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, replace(item, [...path, key], resolved)]),
    );
  }
  return value;
}
