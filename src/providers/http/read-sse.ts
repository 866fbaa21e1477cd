import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** undici's response body: `dump()` reads what is left so the connection goes back to the pool. */
type UpstreamBody = Readable & { dump?: (options: { limit: number }) => Promise<void> };

/** Bytes read after the final event to keep the connection; past this the socket is dropped. */
const DRAIN_LIMIT = 64 * 1024;

/**
 * Reads server-sent events from an upstream body, one parsed event at a time. Parsing is
 * eventsource-parser's (CRLF, multi-line data, comments, split chunks); UTF-8 sequences split
 * across network chunks are joined by a StringDecoder.
 *
 * `isFinal` names the protocol's last event (`[DONE]`, `message_stop`). Stopping after it
 * drains the rest of the body (the end of a chunked response often arrives in its own packet),
 * so the keep-alive connection is reused; stopping anywhere else destroys the body, which
 * aborts the upstream request.
 */
export async function* readSse(
  body: UpstreamBody,
  isFinal: (event: EventSourceMessage) => boolean = () => false,
): AsyncGenerator<EventSourceMessage> {
  const pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => pending.push(event) });
  const decoder = new StringDecoder('utf8');
  let complete = false;
  // Not `for await`: leaving that loop early destroys the body, which would drop the connection.
  const chunks = (body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await chunks.next();
      if (next.done) break;
      parser.feed(decoder.write(next.value));
      while (pending.length > 0) {
        const event = pending.shift() as EventSourceMessage;
        if (isFinal(event)) complete = true;
        yield event;
      }
    }
  } finally {
    if (!body.destroyed) {
      if (complete && body.dump) body.dump({ limit: DRAIN_LIMIT }).catch(() => undefined);
      else body.destroy();
    }
  }
}
