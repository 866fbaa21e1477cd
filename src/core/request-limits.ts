import { GatewayError } from './errors.js';

/**
 * Bounds on the shape of a request body, checked before the schema: JSON nested deeper than
 * `maxDepth` would overflow the stack of every recursive step after validation (the upstream
 * serializer, translation, token counting), and `maxNodes` bounds the work any pass over the body
 * can do (it also stops a library caller's object graph with cycles).
 */
export interface RequestLimits {
  /** Deepest nesting of objects and arrays; the body itself is level 1. */
  readonly maxDepth: number;
  /** Most JSON values (objects, arrays, strings, numbers, booleans, nulls) in one body. */
  readonly maxNodes: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = Object.freeze({ maxDepth: 64, maxNodes: 1_000_000 });

/** Path segments shown before the rest is elided (`tools[0].function.parameters.a.a.a…`). */
const PATH_SHOWN = 8;

/**
 * Throws a 400 `invalid_request` when `body` is nested deeper than `limits.maxDepth` (naming the
 * limit and the path where it was hit) or holds more than `limits.maxNodes` values. Iterative
 * (an explicit stack, no recursion), one pass, no allocation per value beyond the stack.
 *
 * @example checkRequestLimits({ extra: { a: { a: 1 } } }, { maxDepth: 2, maxNodes: 100 })
 *   // throws GatewayError: Invalid request: 'extra.a' is nested more than 2 levels deep (requests.maxDepth).
 */
export function checkRequestLimits(body: unknown, limits: RequestLimits = DEFAULT_REQUEST_LIMITS): void {
  if (typeof body !== 'object' || body === null) return;
  const { maxDepth, maxNodes } = limits;
  const values: object[] = [body];
  const depths: number[] = [1];
  let nodes = 1;
  while (values.length > 0) {
    const value = values.pop() as Record<string, unknown> | unknown[];
    const depth = depths.pop() as number;
    if (depth > maxDepth) throw tooDeep(body, maxDepth);
    if (Array.isArray(value)) {
      nodes += value.length;
      if (nodes > maxNodes) throw tooMany(maxNodes);
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        if (typeof item === 'object' && item !== null) {
          values.push(item);
          depths.push(depth + 1);
        }
      }
    } else {
      for (const key in value) {
        if (++nodes > maxNodes) throw tooMany(maxNodes);
        const item = value[key];
        if (typeof item === 'object' && item !== null) {
          values.push(item);
          depths.push(depth + 1);
        }
      }
    }
  }
}

function tooMany(maxNodes: number): GatewayError {
  return new GatewayError(
    'invalid_request',
    `Invalid request: the body holds more than ${maxNodes} JSON values (the gateway's limit, requests.maxNodes).`,
  );
}

function tooDeep(body: object, maxDepth: number): GatewayError {
  const path = pathPastDepth(body, maxDepth);
  const shown = formatPath(path.slice(0, PATH_SHOWN)) + (path.length > PATH_SHOWN ? '…' : '');
  return new GatewayError(
    'invalid_request',
    `Invalid request: '${shown}' is nested more than ${maxDepth} levels deep (the gateway's limit, requests.maxDepth).`,
    { param: shown },
  );
}

/** The path of the first container found below `maxDepth` levels. Only run on the error path. */
function pathPastDepth(body: object, maxDepth: number): (string | number)[] {
  interface Frame {
    value: object;
    depth: number;
    parent: Frame | null;
    key: string | number;
  }
  const stack: Frame[] = [{ value: body, depth: 1, parent: null, key: '' }];
  while (stack.length > 0) {
    const frame = stack.pop() as Frame;
    if (frame.depth > maxDepth) {
      const path: (string | number)[] = [];
      for (let f: Frame | null = frame; f?.parent; f = f.parent) path.push(f.key);
      return path.reverse();
    }
    const entries: [string | number, unknown][] = Array.isArray(frame.value)
      ? frame.value.map((item, i): [number, unknown] => [i, item])
      : Object.entries(frame.value);
    for (const [key, item] of entries) {
      if (typeof item === 'object' && item !== null)
        stack.push({ value: item, depth: frame.depth + 1, parent: frame, key });
    }
  }
  return [];
}

function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out === '' ? key : `.${key}`;
  return out || 'body';
}
