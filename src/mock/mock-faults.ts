import type { MockScenario } from './schema.js';
import { createRandom, hashString } from './mock-random.js';

/**
 * Failure injection, decided once per request from the scenario and the `x-mock-*` request
 * headers (a header wins over the scenario field it names). The in-process provider and the
 * HTTP server both act on the plan this returns; neither decides anything itself.
 *
 * Each request gets its own seed (`x-mock-seed`, or the planner's seed and a request counter),
 * and every random choice comes from it, so a run replays exactly.
 */

export type MockFaultKind = MockScenario['faults'][number]['kind'];

export type MockFault =
  | { readonly kind: 'error'; readonly status: number; readonly retryAfterS: number | undefined }
  | { readonly kind: 'hang' | 'reset' | 'malformed' }
  /** Stream only: strikes after `after` content chunks (or before the finish chunk if fewer). */
  | { readonly kind: 'cut' | 'stall'; readonly after: number }
  | { readonly kind: 'error_event'; readonly after: number; readonly status: number };

export interface MockPlan {
  /** This request's seed: send it back as `x-mock-seed` to replay the same draws. */
  readonly seed: number;
  /** Before a non-stream answer or a stream's response headers (jitter included). */
  readonly latencyMs: number;
  /** Between a stream's response headers and its first chunk. */
  readonly ttftMs: number;
  readonly chunkDelayMs: number;
  readonly completionTokens: number;
  /** Write `completionTokens` whatever limit the request sets (an upstream that ignores it). */
  readonly ignoreOutputLimit: boolean;
  readonly fault: MockFault | null;
}

/** A malformed `x-mock-*` header (the mock answers 400 with `param` set to the header name). */
export class MockHeaderError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = 'MockHeaderError';
  }
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** The headers that inject a fault; any of them present turns the scenario's random faults off. */
const FAULT_HEADERS = [
  'x-mock-error-rate',
  'x-mock-error-status',
  'x-mock-retry-after-s',
  'x-mock-hang',
  'x-mock-reset',
  'x-mock-malformed',
  'x-mock-cut-after',
  'x-mock-stall-after',
  'x-mock-error-event-after',
] as const;

/** Every header the mock reads, for documentation and tests. */
export const MOCK_HEADERS = [
  'x-mock-seed',
  'x-mock-latency-ms',
  'x-mock-jitter-ms',
  'x-mock-ttft-ms',
  'x-mock-chunk-delay-ms',
  'x-mock-completion-tokens',
  'x-mock-ignore-output-limit',
  ...FAULT_HEADERS,
] as const;

const MALFORMED_VALUES = new Set(['', '1', 'true', 'yes', 'on', 'json', 'sse']);
const TRUE_VALUES = new Set(['', '1', 'true', 'yes', 'on']);
const FALSE_VALUES = new Set(['0', 'false', 'no', 'off']);
const STREAM_ONLY = new Set<string>(['cut', 'stall', 'error_event']);

export interface MockFaultPlanner {
  /** Plans one request; throws MockHeaderError on a malformed `x-mock-*` header. */
  plan(headers: Headers, stream: boolean): MockPlan;
}

/**
 * @example const planner = createFaultPlanner(42, scenario);
 *   planner.plan({ 'x-mock-error-rate': '1', 'x-mock-error-status': '503' }, false).fault
 *   // → { kind: 'error', status: 503, retryAfterS: undefined }
 */
export function createFaultPlanner(seed: number, scenario: MockScenario): MockFaultPlanner {
  let counter = 0;
  return {
    plan(headers, stream) {
      const read = headerReader(headers);
      const requestSeed = read.int('x-mock-seed', Number.MAX_SAFE_INTEGER) ?? hashString(String(counter++), seed);
      const rng = createRandom(requestSeed);
      // Always two draws, in this order, so adding a header never shifts later requests' draws.
      const faultDraw = rng.next();
      const jitterDraw = rng.next();
      const jitter = read.int('x-mock-jitter-ms') ?? scenario.jitterMs;
      const forced = FAULT_HEADERS.some((name) => read.raw(name) !== undefined);
      const fault = forced ? headerFault(read, faultDraw) : scenarioFault(scenario, faultDraw);
      return {
        seed: requestSeed,
        latencyMs: (read.int('x-mock-latency-ms') ?? scenario.latencyMs) + Math.floor(jitterDraw * (jitter + 1)),
        ttftMs: read.int('x-mock-ttft-ms') ?? scenario.ttftMs,
        chunkDelayMs: read.int('x-mock-chunk-delay-ms') ?? scenario.chunkDelayMs,
        completionTokens: read.int('x-mock-completion-tokens', 100_000, 1) ?? scenario.completionTokens,
        ignoreOutputLimit: read.bool('x-mock-ignore-output-limit'),
        fault: fault && !stream && STREAM_ONLY.has(fault.kind) ? null : fault,
      };
    },
  };
}

/** Fault headers, in precedence order: hang, reset, a drawn error, malformed, cut, stall, error event. */
function headerFault(read: HeaderReader, draw: number): MockFault | null {
  if (read.bool('x-mock-hang')) return { kind: 'hang' };
  if (read.bool('x-mock-reset')) return { kind: 'reset' };
  const status = read.int('x-mock-error-status', 599, 400);
  // A status alone means "always", unless it only names the in-band error event's kind.
  const statusOnly = status !== undefined && read.raw('x-mock-error-event-after') === undefined;
  const rate = read.rate('x-mock-error-rate') ?? (statusOnly ? 1 : 0);
  const retryAfterS = read.int('x-mock-retry-after-s');
  if (draw < rate) return errorFault(status ?? 500, retryAfterS);
  if (read.bool('x-mock-malformed', MALFORMED_VALUES)) return { kind: 'malformed' };
  const cut = read.int('x-mock-cut-after');
  if (cut !== undefined) return { kind: 'cut', after: cut };
  const stall = read.int('x-mock-stall-after');
  if (stall !== undefined) return { kind: 'stall', after: stall };
  const event = read.int('x-mock-error-event-after');
  if (event !== undefined) return { kind: 'error_event', after: event, status: status ?? 500 };
  return null;
}

/** One draw over the scenario's errors then faults, each owning a slice of [0, 1) as wide as its rate. */
function scenarioFault(scenario: MockScenario, draw: number): MockFault | null {
  let edge = 0;
  for (const error of scenario.errors) {
    edge += error.rate;
    if (draw < edge) return errorFault(error.status, error.retryAfterS);
  }
  for (const fault of scenario.faults) {
    edge += fault.rate;
    if (draw >= edge) continue;
    if (fault.kind === 'cut' || fault.kind === 'stall') return { kind: fault.kind, after: fault.after };
    if (fault.kind === 'error_event') return { kind: 'error_event', after: fault.after, status: 500 };
    return { kind: fault.kind };
  }
  return null;
}

/** A 429 always says when to retry (1 s unless told), as real rate limiters do. */
function errorFault(status: number, retryAfterS: number | undefined): MockFault {
  return { kind: 'error', status, retryAfterS: retryAfterS ?? (status === 429 ? 1 : undefined) };
}

interface HeaderReader {
  raw(name: string): string | undefined;
  int(name: string, max?: number, min?: number): number | undefined;
  rate(name: string): number | undefined;
  /** `yes` lists the values meaning true; 0, false, no and off mean false; anything else throws. */
  bool(name: string, yes?: ReadonlySet<string>): boolean;
}

function headerReader(headers: Headers): HeaderReader {
  const raw = (name: string): string | undefined => {
    const value = headers[name];
    return (Array.isArray(value) ? value[0] : value)?.trim();
  };
  return {
    raw,
    int(name, max = 86_400_000, min = 0) {
      const value = raw(name);
      if (value === undefined) return undefined;
      const n = Number(value);
      if (!/^\d+$/.test(value) || n < min || n > max)
        throw new MockHeaderError(name, `${name}: expected an integer from ${min} to ${max}, got '${value}'`);
      return n;
    },
    rate(name) {
      const value = raw(name);
      if (value === undefined) return undefined;
      const n = Number(value);
      if (value === '' || !(n >= 0 && n <= 1))
        throw new MockHeaderError(name, `${name}: expected a number from 0 to 1, got '${value}'`);
      return n;
    },
    bool(name, yes = TRUE_VALUES) {
      const value = raw(name)?.toLowerCase();
      if (value === undefined || FALSE_VALUES.has(value)) return false;
      if (yes.has(value)) return true;
      throw new MockHeaderError(
        name,
        `${name}: expected one of ${[...yes].filter(Boolean).join(', ')} or false, got '${value}'`,
      );
    },
  };
}
