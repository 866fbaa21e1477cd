import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { exchange } from './upstream-exchange.js';

/** Each path is a behaviour of the test server. */
const routes: Record<string, (res: ServerResponse) => void> = {
  '/pieces': (res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('héllo ');
    setTimeout(() => res.end('wörld'), 5);
  },
  '/big': (res) => {
    res.writeHead(200);
    const piece = Buffer.alloc(16 * 1024, 'x');
    let sent = 0;
    const more = (): void => {
      while (sent < 64) {
        sent++;
        if (!res.write(piece)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  },
  '/hang': () => undefined,
  '/trickle': (res) => {
    res.writeHead(200);
    res.write('first');
    // the rest never comes
  },
  '/late-end': (res) => {
    res.writeHead(200);
    res.write('data: [DONE]\n\n');
    setTimeout(() => res.end(), 5); // the terminating chunk in its own packet
  },
};

describe('exchange (undici dispatch, body as reads)', () => {
  let connections = 0;
  const closed: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('close', () => {
      if (!res.writableFinished) closed.push(req.url!);
    });
    routes[req.url!]!(res);
  });
  server.on('connection', () => connections++);
  let pool: Pool;
  let origin = '';
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    pool = new Pool(origin, { connections: 1, headersTimeout: 0, bodyTimeout: 0 });
  });
  after(async () => {
    await pool.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const get = (path: string, signal = new AbortController().signal) =>
    exchange(pool, { origin, method: 'GET', path }, signal);

  it('reads a body in pieces as it arrives, text() joins them (UTF-8 intact)', async () => {
    const reply = await get('/pieces');
    assert.equal(reply.statusCode, 200);
    assert.equal(reply.headers['content-type'], 'text/plain');
    assert.equal(await reply.text(), 'héllo wörld');
  });

  it('a slow reader gets every byte of a 1 MB body (the socket pauses, then resumes)', async () => {
    const reply = await get('/big');
    let bytes = 0;
    for (let chunk = await reply.read(); chunk !== null; chunk = await reply.read()) {
      bytes += chunk.length;
      if (bytes % (256 * 1024) < chunk.length) await sleep(20);
    }
    assert.equal(bytes, 64 * 16 * 1024);
  });

  it('release after the final event drains the late end: the next request reuses the connection', async () => {
    const before = connections;
    for (let i = 0; i < 3; i++) {
      const reply = await get('/late-end');
      assert.equal((await reply.read())?.toString(), 'data: [DONE]\n\n');
      reply.release(64 * 1024);
      await sleep(15);
    }
    assert.ok(connections - before <= 1, `${connections - before} connections for 3 requests`);
  });

  it('release(0) mid-body aborts the exchange: the upstream sees the request closed', async () => {
    const reply = await get('/trickle');
    assert.equal((await reply.read())?.toString(), 'first');
    reply.release(0);
    await sleep(50);
    assert.ok(closed.includes('/trickle'));
  });

  it('the signal aborts while waiting for headers and mid-body, with its reason', async () => {
    const waiting = new AbortController();
    const pending = get('/hang', waiting.signal);
    await sleep(20);
    waiting.abort(new Error('gave up on headers'));
    await assert.rejects(pending, /gave up on headers/);

    const reading = new AbortController();
    const reply = await get('/trickle', reading.signal);
    assert.equal((await reply.read())?.toString(), 'first');
    const next = reply.read();
    reading.abort(new Error('gave up on the body'));
    await assert.rejects(next, /gave up on the body/);
  });

  it('a signal aborted while the request waits for a connection rejects at once', async () => {
    const first = new AbortController();
    const hanging = get('/hang', first.signal); // takes the pool's only connection
    await sleep(20);
    const queued = new AbortController();
    const pending = get('/pieces', queued.signal);
    const started = Date.now();
    queued.abort(new Error('not waiting any more'));
    await assert.rejects(pending, /not waiting any more/);
    assert.ok(Date.now() - started < 100);
    first.abort(new Error('done'));
    await assert.rejects(hanging, /done/);
    // The pool still serves.
    assert.equal(await (await get('/pieces')).text(), 'héllo wörld');
  });

  it('an already aborted signal never dispatches', async () => {
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    await assert.rejects(get('/pieces', controller.signal), /too late/);
  });
});
