import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mockScenarioSchema, type MockScenarioInput } from './schema.js';
import { systemClock } from '../core/clock.js';
import type { EmbeddingRequest } from '../core/types.js';
import { anthropicDialect } from './mock-anthropic.js';
import { openaiDialect, type MockDialect } from './mock-dialect.js';
import { generateEmbeddings } from './mock-embeddings.js';
import { generateChatReply, type MockChatOptions } from './mock-engine.js';
import { retryAfterHeaders, type OpenAIErrorBody } from './mock-error-body.js';
import { createFaultPlanner, MockHeaderError, type MockPlan } from './mock-faults.js';
import { writeChatStream } from './mock-server-stream.js';
import { validateEmbeddingRequest } from './mock-validate.js';

export interface MockServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 42, as in the config schema. */
  seed?: number;
  /** Any scenario fields; the rest take the config schema's defaults. */
  scenario?: MockScenarioInput;
}

export interface MockServer {
  /** `http://host:port`: append `/v1` for an OpenAI base URL; use it as is for an Anthropic one. */
  readonly url: string;
  readonly port: number;
  /** HTTP requests received so far, on any route (what a test counts to see whether an upstream was called). */
  readonly received: number;
  /** Stops listening and drops every connection, hung and stalled ones included. */
  close(): Promise<void>;
}

const BODY_LIMIT_BYTES = 32 * 1024 * 1024;
const MODELS = ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small', 'text-embedding-3-large'];
const ROUTES: Record<string, string> = {
  '/v1/chat/completions': 'POST',
  '/v1/messages': 'POST',
  '/v1/embeddings': 'POST',
  '/v1/models': 'GET',
};

/**
 * The mock as a standalone server on node:http (`tollgate mock`), with the same engine and fault
 * planner as the in-process provider: OpenAI's API (`/v1/chat/completions`, `/v1/embeddings`,
 * `/v1/models`) and Anthropic's Messages API (`/v1/messages`, same faults, Anthropic's bytes).
 * Any `model` is accepted.
 *
 * @example const mock = await startMockServer({ port: 0, scenario: { latencyMs: 50 } });
 *   const openai = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'unused' });
 *   await mock.close();
 */
export async function startMockServer(options: MockServerOptions): Promise<MockServer> {
  const seed = options.seed ?? 42;
  const planner = createFaultPlanner(seed, mockScenarioSchema.parse(options.scenario ?? {}));
  let requests = 0;

  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const requestId = `req_mock_${++requests}`;
    handle(req, res, requestId).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { 'x-request-id': requestId }, internalError(err));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const base = { 'x-request-id': requestId };
    const dialect: MockDialect = path === '/v1/messages' ? anthropicDialect : openaiDialect;
    const invalid = (message: string, param: string | null, code?: string | null): unknown =>
      dialect.invalid(message, param, code);
    const method = ROUTES[path];
    if (!method)
      return sendJson(res, 404, base, invalid(`Unknown request URL: ${req.method} ${path}.`, null, 'unknown_url'));
    if (req.method !== method)
      return sendJson(res, 405, base, invalid(`${req.method} is not allowed on ${path}.`, null));
    if (path === '/v1/models') return sendJson(res, 200, base, modelList());

    const body = await readJson(req);
    if (body === TOO_LARGE) return sendJson(res, 413, base, invalid('The request body is too large.', null));
    if (body === NOT_JSON) {
      return sendJson(res, 400, base, invalid('We could not parse the JSON body of your request.', null));
    }
    const chat = path !== '/v1/embeddings';
    const stream = chat && (body as { stream?: unknown }).stream === true;
    let plan: MockPlan;
    try {
      plan = planner.plan(req.headers, stream);
    } catch (err) {
      if (err instanceof MockHeaderError) return sendJson(res, 400, base, invalid(err.message, err.param));
      throw err;
    }
    const headers = { ...base, 'x-mock-seed': String(plan.seed) };
    const signal = abortOnClose(res);
    const sleep = (ms: number): Promise<void> => (ms > 0 ? systemClock.sleep(ms, signal) : Promise.resolve());

    const fault = plan.fault;
    if (fault?.kind === 'hang') return; // never answer; the client (or close()) ends it
    try {
      await sleep(plan.latencyMs);
    } catch {
      return; // the client left while we waited
    }
    // Embeddings speak OpenAI only; a chat route reads the request in its dialect.
    const read = chat ? dialect.read(body) : { problem: validateEmbeddingRequest(body) };
    if ('problem' in read && read.problem) {
      return sendJson(res, 400, headers, invalid(read.problem.message, read.problem.param));
    }
    if (fault?.kind === 'error') {
      const errorHeaders = { ...headers, ...retryAfterHeaders(fault.retryAfterS) };
      return sendJson(res, fault.status, errorHeaders, dialect.injected(fault.status));
    }
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }

    if ('problem' in read)
      return sendBody(res, headers, await generateEmbeddings(body as EmbeddingRequest, seed), plan);
    const reply = await generateChatReply(read.request, replyOptions(seed, plan));
    if (!stream) return sendBody(res, headers, dialect.response(reply), plan);
    await writeChatStream(res, reply, dialect, read.includeUsage, plan, headers, sleep).catch(() => res.destroy());
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    get received() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function replyOptions(seed: number, plan: MockPlan): MockChatOptions {
  return {
    seed,
    completionTokens: plan.completionTokens,
    ignoreOutputLimit: plan.ignoreOutputLimit,
    created: Math.floor(Date.now() / 1000),
  };
}

const TOO_LARGE = Symbol('too large');
const NOT_JSON = Symbol('not json');

async function readJson(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > BODY_LIMIT_BYTES) return TOO_LARGE;
    parts.push(part);
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8')) as unknown;
  } catch {
    return NOT_JSON;
  }
}

/** Aborts when the client goes away before the response is complete. */
function abortOnClose(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client closed the connection'));
  });
  return controller.signal;
}

/** A 200 JSON answer, or half of it when the plan says `malformed`. */
function sendBody(res: ServerResponse, headers: Record<string, string>, payload: unknown, plan: MockPlan): void {
  if (plan.fault?.kind !== 'malformed') return sendJson(res, 200, headers, payload);
  const text = JSON.stringify(payload);
  res.writeHead(200, { ...headers, 'content-type': 'application/json' }).end(text.slice(0, text.length >> 1));
}

function sendJson(res: ServerResponse, status: number, headers: Record<string, string>, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function internalError(err: unknown): OpenAIErrorBody {
  const message = err instanceof Error ? err.message : String(err);
  return { error: { message: `mock: ${message}`, type: 'server_error', param: null, code: null } };
}

function modelList(): unknown {
  const created = 1_715_367_049;
  return { object: 'list', data: MODELS.map((id) => ({ id, object: 'model', created, owned_by: 'tollgate-mock' })) };
}
