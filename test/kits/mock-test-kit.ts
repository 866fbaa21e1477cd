import { FakeClock } from '../../src/core/clock.js';
import type { CallContext } from '../../src/core/context.js';
import { fakeContext } from './resilience-test-kit.js';

/** A CallContext for the mock's tests: `fakeContext` (a FakeClock, an abort handle) with the given request headers. */
export function mockTestContext(headers: Record<string, string> = {}): {
  ctx: CallContext;
  clock: FakeClock;
  abort: (reason?: unknown) => void;
} {
  const test = fakeContext(new FakeClock(), 'mock');
  return { ...test, ctx: { ...test.ctx, headers } };
}
