import { Agent, request } from 'undici';
import type { VaultConfig } from './schema.js';

/** Where one value lives in a KV v2 engine. */
export interface VaultLocation {
  readonly path: string;
  readonly key: string;
  /** KV v2 mount; `vault.mount` (default `secret`) when absent. */
  readonly mount?: string | undefined;
}

export interface VaultReader {
  /** The value at `location`; rejects with a message fit for an operator (never the token). */
  read(location: VaultLocation): Promise<string>;
  /** Closes the connections: the loader reads at start-up only. */
  close(): Promise<void>;
}

/** `vault:secret/app#key`, as shown in `Secret.source` and in error messages. */
export function describeVaultLocation(location: VaultLocation, defaultMount: string): string {
  return `vault:${location.mount ?? defaultMount}/${trimSlashes(location.path)}#${location.key}`;
}

// Start-up must not hang on an unreachable Vault; ten seconds is generous for one small GET.
const TIMEOUT_MS = 10_000;

/**
 * Reads secrets from HashiCorp Vault's KV v2 engine over its HTTP API
 * (`GET {address}/v1/{mount}/data/{path}`, value at `.data.data[key]`). Each distinct
 * mount + path is fetched once, however many keys are read from it.
 *
 * @example
 * const vault = createVaultReader({ address: 'https://vault:8200', token, mount: 'secret' });
 * const key = await vault.read({ path: 'tollgate/openai', key: 'api_key' });
 * await vault.close();
 */
export function createVaultReader(config: VaultConfig, options: { timeoutMs?: number } = {}): VaultReader {
  const timeout = options.timeoutMs ?? TIMEOUT_MS;
  const dispatcher = new Agent({ connectTimeout: timeout, headersTimeout: timeout, bodyTimeout: timeout });
  const documents = new Map<string, Promise<Record<string, unknown>>>();
  const address = config.address.replace(/\/+$/, '');

  const fetchDocument = async (mount: string, path: string): Promise<Record<string, unknown>> => {
    const url = `${address}/v1/${encodePath(mount)}/data/${encodePath(path)}`;
    const headers: Record<string, string> = { 'x-vault-token': config.token.reveal() };
    if (config.namespace) headers['x-vault-namespace'] = config.namespace;
    let response;
    try {
      response = await request(url, { method: 'GET', headers, dispatcher });
    } catch (err) {
      throw new Error(`cannot reach Vault at ${address}: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    const body: unknown = await response.body.json().catch(() => undefined);
    if (response.statusCode === 200) {
      const data = dig(body, 'data', 'data');
      if (isRecord(data)) return data;
      throw new Error(`unexpected answer from Vault for ${mount}/${path} (no data.data; is ${mount} a KV v2 mount?)`);
    }
    throw new Error(describeFailure(response.statusCode, body, mount, path));
  };

  return {
    async read(location) {
      const mount = trimSlashes(location.mount ?? config.mount);
      const path = trimSlashes(location.path);
      const id = `${mount}/${path}`;
      let document = documents.get(id);
      if (!document) {
        document = fetchDocument(mount, path);
        documents.set(id, document);
      }
      const data = await document;
      const value = data[location.key];
      if (value === undefined) {
        throw new Error(`no key "${location.key}" in ${id} (keys there: ${Object.keys(data).join(', ') || 'none'})`);
      }
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw new Error(`key "${location.key}" in ${id} is not a string`);
    },
    close: () => dispatcher.close(),
  };
}

function describeFailure(status: number, body: unknown, mount: string, path: string): string {
  const errors = dig(body, 'errors');
  const detail = Array.isArray(errors) && errors.length > 0 ? `: ${errors.map(String).join('; ')}` : '';
  if (status === 403) return `Vault denied reading ${mount}/${path} (HTTP 403${detail}); check the token's policy`;
  if (status === 404) {
    // A common slip: writing the mount into the path, as `vault kv get secret/app` allows.
    const hint = path.startsWith(`${mount}/`) ? `; paths are relative to the mount "${mount}"` : '';
    return `no secret at ${mount}/${path} in Vault (HTTP 404${hint})`;
  }
  return `Vault answered HTTP ${status} for ${mount}/${path}${detail}`;
}

const trimSlashes = (text: string): string => text.replace(/^\/+|\/+$/g, '');
const encodePath = (path: string): string => path.split('/').map(encodeURIComponent).join('/');

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function dig(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) current = isRecord(current) ? current[key] : undefined;
  return current;
}
