import type { ServerResponse } from 'node:http';
import type { MockDialect } from './mock-dialect.js';
import type { MockReply } from './mock-engine.js';
import type { MockPlan } from './mock-faults.js';

/**
 * Writes a chat stream as server-sent events in the route's dialect (OpenAI's `data: {...}` …
 * `data: [DONE]`, or Anthropic's named events), with the plan's timing and stream faults: cut
 * (socket destroyed), stall (silence until the client leaves), an in-band error event, or a
 * broken frame in place of a chunk.
 */
export async function writeChatStream(
  res: ServerResponse,
  reply: MockReply,
  dialect: MockDialect,
  includeUsage: boolean,
  plan: MockPlan,
  headers: Record<string, string>,
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  const events = dialect.frames(reply, includeUsage);
  res.writeHead(200, { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const fault = plan.fault;
  if (!fault && plan.ttftMs <= 0 && plan.chunkDelayMs <= 0) {
    res.end(events.join(''));
    return;
  }
  res.flushHeaders();
  // Frame 0 is the role chunk; stream faults strike after `after` content chunks.
  const strikeAt =
    fault && 'after' in fault ? 1 + Math.min(fault.after, reply.pieces.length) : fault?.kind === 'malformed' ? 1 : -1;
  await sleep(plan.ttftMs);
  for (const [index, event] of events.entries()) {
    if (index > 0) await sleep(plan.chunkDelayMs);
    if (index === strikeAt && fault) {
      switch (fault.kind) {
        case 'cut':
          res.socket?.destroy();
          return;
        case 'stall':
          return; // silence: the connection stays open until the client goes away
        case 'error_event':
          res.end(dialect.errorEvent(fault.status));
          return;
        case 'malformed':
          await write(res, `${event.slice(0, Math.floor(event.length / 2))}\n\n`);
          continue;
        default:
          break;
      }
    }
    if (event !== '') await write(res, event);
  }
  res.end();
}

/** Resolves once the data is handed to the socket, so a cut right after it still delivers it. */
function write(res: ServerResponse, data: string): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) resolve();
    else res.write(data, () => resolve());
  });
}
