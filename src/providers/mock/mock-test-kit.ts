import pino from 'pino';
import { FakeClock } from '../../core/clock.js';
import { ANONYMOUS, newCallRecord, type CallContext } from '../../core/context.js';

/** A CallContext for the mock's tests: a FakeClock, the given request headers, and an abort handle. */
export function mockTestContext(headers: Record<string, string> = {}): {
  ctx: CallContext;
  clock: FakeClock;
  abort: (reason?: unknown) => void;
} {
  const clock = new FakeClock();
  const controller = new AbortController();
  const ctx: CallContext = {
    requestId: 'req_test',
    callId: 'call_test',
    principal: ANONYMOUS,
    signal: controller.signal,
    log: pino({ level: 'silent' }),
    clock,
    startedAt: clock.now(),
    startedAtWall: clock.wallNow(),
    headers,
    record: newCallRecord('mock', false),
    responseHeaders: {},
  };
  return { ctx, clock, abort: (reason?: unknown) => controller.abort(reason) };
}
