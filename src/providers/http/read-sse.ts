import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { StringDecoder } from 'node:string_decoder';
import type { UpstreamReply } from './upstream-exchange.js';

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
 * so the keep-alive connection is reused; stopping anywhere else aborts the upstream request.
 */
export async function* readSse(
  reply: UpstreamReply,
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
  try {
    for (let chunk = await reply.read(); chunk !== null; chunk = await reply.read()) {
      parser.feed(decoder.write(chunk));
      if (pending.length > 0) {
        const events = pending;
        pending = [];
        yield events;
      }
    }
  } finally {
    reply.release(complete ? DRAIN_LIMIT : 0);
  }
}
