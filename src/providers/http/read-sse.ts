import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { Readable } from 'node:stream';

/**
 * Reads server-sent events from an upstream body, one parsed event at a time. Parsing is
 * eventsource-parser's (CRLF, multi-line data, comments, split chunks); UTF-8 sequences split
 * across network chunks are joined by the stream's decoder. Ending the iteration early
 * destroys the body, which releases the upstream connection.
 */
export async function* readSse(body: Readable): AsyncGenerator<EventSourceMessage> {
  const pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => pending.push(event) });
  body.setEncoding('utf8');
  try {
    for await (const text of body as AsyncIterable<string>) {
      parser.feed(text);
      while (pending.length > 0) yield pending.shift() as EventSourceMessage;
    }
  } finally {
    if (!body.destroyed) body.destroy();
  }
}
