import type { ConfigIssue } from './format-errors.js';
import { Secret } from '../core/secret.js';

/** The aliases the embedded default serves, each under the same upstream model name. */
export const EMBEDDED_ALIASES = [
  { alias: 'gpt-4o-mini', type: 'chat' },
  { alias: 'gpt-4o', type: 'chat' },
  { alias: 'gpt-4.1-mini', type: 'chat' },
  { alias: 'gpt-4.1', type: 'chat' },
  { alias: 'gpt-5-mini', type: 'chat' },
  { alias: 'text-embedding-3-small', type: 'embeddings' },
] as const;

export interface EmbeddedDefault {
  readonly providers: Record<string, Record<string, unknown>>;
  readonly models: Record<string, Record<string, unknown>>;
  /** Which provider was chosen and why, for the start-up log. */
  readonly note: string;
}

/**
 * Providers and aliases for a gateway started without configuring any: OpenAI when
 * `OPENAI_API_KEY` is set (so `npx tollgate` in front of OpenAI just works), otherwise the
 * built-in mock (so a first run, a demo or CI needs no key at all).
 *
 * @example embeddedDefault({}).note // → 'OPENAI_API_KEY not set: aliases gpt-4o-mini, ... served by the built-in mock provider'
 */
export function embeddedDefault(env: NodeJS.ProcessEnv): EmbeddedDefault {
  const apiKey = env.OPENAI_API_KEY;
  const baseUrl = env.OPENAI_BASE_URL;
  const provider = apiKey ? 'openai' : 'mock';
  const providers: EmbeddedDefault['providers'] = apiKey
    ? { openai: { type: 'openai', apiKey: new Secret(apiKey, 'env:OPENAI_API_KEY'), ...(baseUrl && { baseUrl }) } }
    : { mock: { type: 'mock' } };
  const models = Object.fromEntries(
    EMBEDDED_ALIASES.map(({ alias, type }) => [alias, { type, deployments: [{ provider, model: alias }] }]),
  );
  const names = EMBEDDED_ALIASES.map(({ alias }) => alias).join(', ');
  const note = apiKey
    ? `OPENAI_API_KEY set: aliases ${names} served by OpenAI at ${baseUrl ?? 'https://api.openai.com/v1'}`
    : `OPENAI_API_KEY not set: aliases ${names} served by the built-in mock provider`;
  return { providers, models, note };
}

export interface EnvOverrides {
  /** A partial config tree to merge over the files. */
  readonly values: { server?: { port?: number; host?: string }; log?: { level?: string } };
  /** `server.port` → `PORT`, to say where a bad value came from. */
  readonly origins: ReadonlyMap<string, string>;
  readonly issues: ConfigIssue[];
}

/**
 * The conventional platform variables: `PORT` and `HOST` (Heroku, Cloud Run, Render and most
 * PaaS set `PORT`) and `TOLLGATE_LOG_LEVEL`. They beat the files; explicit CLI flags beat them,
 * so a variable is skipped when `explicit` says the caller already set that field.
 */
export function envOverrides(
  env: NodeJS.ProcessEnv,
  explicit: { port?: unknown; host?: unknown; logLevel?: unknown } = {},
): EnvOverrides {
  const values: { server?: { port?: number; host?: string }; log?: { level?: string } } = {};
  const origins = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  const server: { port?: number; host?: string } = {};

  if (env.PORT && explicit.port === undefined) {
    if (/^\d+$/.test(env.PORT)) server.port = Number(env.PORT);
    else
      issues.push({ path: 'server.port', message: `environment variable PORT is not a port number ("${env.PORT}")` });
    origins.set('server.port', 'PORT');
  }
  if (env.HOST && explicit.host === undefined) {
    server.host = env.HOST;
    origins.set('server.host', 'HOST');
  }
  if (server.port !== undefined || server.host !== undefined) values.server = server;
  if (env.TOLLGATE_LOG_LEVEL && explicit.logLevel === undefined) {
    values.log = { level: env.TOLLGATE_LOG_LEVEL };
    origins.set('log.level', 'TOLLGATE_LOG_LEVEL');
  }
  return { values, origins, issues };
}
