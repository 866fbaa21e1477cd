// The pass-through floor: node:http in front of an undici Pool with keep-alive, nothing else
// (no routing, validation, logging or accounting). The same code path as the team's peer
// harness (shared/bench/peer/passthrough-proxy.cjs, PROXY_MODE=buffer): the request body is
// collected into one Buffer and forwarded with content-length; a JSON answer is collected and
// sent with one write; SSE is relayed chunk by chunk with manual backpressure. What this process
// achieves on one core is the most any Node gateway can do on this machine.
//
// Listeners (127.0.0.1 only): FLOOR_PORT -> UPSTREAM, and when set FLOOR_PACED_PORT ->
// UPSTREAM_PACED, FLOOR_ROLE_PAUSED_PORT -> UPSTREAM_ROLE_PAUSED, FLOOR_SPLIT_END_PORT -> UPSTREAM_SPLIT_END.
// Prints `listening <port>` per listener on stdout.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { Pool, type Dispatcher } from 'undici';

const HOST = '127.0.0.1';
const CONNECTIONS = Number(process.env.FLOOR_CONNECTIONS ?? 256);

const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
  'expect',
]);

type Headers = Record<string, string | string[] | undefined>;
function fwdHeaders(h: IncomingHttpHeaders | Headers): Headers {
  const out: Headers = {};
  for (const k in h) if (!HOP.has(k)) out[k] = h[k];
  return out;
}

function fail(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy(err as Error);
    return;
  }
  const b = Buffer.from(JSON.stringify({ error: { message: String((err as Error)?.message), type: 'proxy_error' } }));
  res.writeHead(502, { 'content-type': 'application/json', 'content-length': b.length });
  res.end(b);
}

function relay(up: Dispatcher.ResponseData, res: ServerResponse): void {
  const headers = fwdHeaders(up.headers);
  const ct = String(headers['content-type'] ?? '');
  const body = up.body;
  if (ct.startsWith('text/event-stream') || headers['content-length'] === undefined) {
    res.writeHead(up.statusCode, headers);
    body.on('data', (c: Buffer) => {
      if (!res.write(c)) {
        body.pause();
        res.once('drain', () => body.resume());
      }
    });
    body.on('end', () => res.end());
    body.on('error', (e) => res.destroy(e));
    res.on('close', () => {
      if (!body.destroyed) body.destroy();
    });
    return;
  }
  const parts: Buffer[] = [];
  body.on('data', (c: Buffer) => parts.push(c));
  body.on('error', (e) => fail(res, e));
  body.on('end', () => {
    const buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    headers['content-length'] = String(buf.length);
    res.writeHead(up.statusCode, headers);
    res.end(buf);
  });
}

function listen(port: number, upstream: string): void {
  const pool = new Pool(upstream, { connections: CONNECTIONS, pipelining: 1, keepAliveTimeout: 60_000 });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      const headers = fwdHeaders(req.headers);
      headers['content-length'] = String(body.length);
      pool.request({ path: req.url ?? '/', method: req.method as Dispatcher.HttpMethod, headers, body }, (err, up) => {
        if (err) fail(res, err);
        else relay(up, res);
      });
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.listen(port, HOST, () => console.log(`listening ${port} -> ${upstream}`));
}

listen(Number(process.env.FLOOR_PORT ?? 9200), process.env.UPSTREAM ?? 'http://127.0.0.1:9100');
if (process.env.FLOOR_PACED_PORT && process.env.UPSTREAM_PACED) {
  listen(Number(process.env.FLOOR_PACED_PORT), process.env.UPSTREAM_PACED);
}
if (process.env.FLOOR_ROLE_PAUSED_PORT && process.env.UPSTREAM_ROLE_PAUSED) {
  listen(Number(process.env.FLOOR_ROLE_PAUSED_PORT), process.env.UPSTREAM_ROLE_PAUSED);
}
if (process.env.FLOOR_SPLIT_END_PORT && process.env.UPSTREAM_SPLIT_END) {
  listen(Number(process.env.FLOOR_SPLIT_END_PORT), process.env.UPSTREAM_SPLIT_END);
}
