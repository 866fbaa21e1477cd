import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/**
 * Reads server-sent events from an upstream body, one parsed event at a time. Parsing is
 * eventsource-parser's (CRLF, multi-line data, comments, split chunks); UTF-8 sequences split
 * across network chunks are joined by a StringDecoder. Ending the iteration early
 * destroys the body, which releases the upstream connection.
 */
export async function* readSse(body: Readable): AsyncGenerator<EventSourceMessage> {
  const pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => pending.push(event) });
  const decoder = new StringDecoder('utf8');
  try {
    for await (const bytes of body as AsyncIterable<Buffer>) {
      parser.feed(decoder.write(bytes));
      while (pending.length > 0) yield pending.shift() as EventSourceMessage;
    }
  } finally {
    if (!body.destroyed) body.destroy();
  }
}
