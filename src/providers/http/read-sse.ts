import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** undici's response body: `dump()` reads what is left so the connection goes back to the pool. */
type UpstreamBody = Readable & { dump?: (options: { limit: number }) => Promise<void> };

/** Bytes read after the final event to keep the connection; past this the socket is dropped. */
const DRAIN_LIMIT = 64 * 1024;

/**
 * Reads server-sent events from an upstream body: one array per network read, holding the
 * events that read completed (reads that complete none yield nothing). Parsing is
 * eventsource-parser's (CRLF, multi-line data, comments, split chunks); UTF-8 sequences split
 * across reads are joined by a StringDecoder. Batching by read keeps the work per event small:
 * the stages above move a read's events together, as the upstream sent them.
 *
 * `isFinal` names the protocol's last event (`[DONE]`, `message_stop`). Stopping after it
 * drains the rest of the body (the end of a chunked response often arrives in its own packet),
 * so the keep-alive connection is reused; stopping anywhere else destroys the body, which
 * aborts the upstream request.
 */
export async function* readSse(
  body: UpstreamBody,
  isFinal: (event: EventSourceMessage) => boolean = () => false,
): AsyncGenerator<EventSourceMessage[]> {
  let pending: EventSourceMessage[] = [];
  let complete = false;
  const parser = createParser({
    onEvent: (event) => {
      if (isFinal(event)) complete = true;
      pending.push(event);
    },
  });
  const decoder = new StringDecoder('utf8');
  // Not `for await`: leaving that loop early destroys the body, which would drop the connection.
  const chunks = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await chunks.next();
      if (next.done) break;
      parser.feed(decoder.write(next.value));
      if (pending.length > 0) {
        const events = pending;
        pending = [];
        yield events;
      }
    }
  } finally {
    if (!body.destroyed) {
      if (complete && body.dump) body.dump({ limit: DRAIN_LIMIT }).catch(() => undefined);
      else body.destroy();
    }
  }
}
