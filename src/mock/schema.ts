import { z } from 'zod';

/* The mock LLM's scenario: `providers.<name>.scenario` (`type: mock`) and `tollgate mock`. */

const durationMs = z.number().int().nonnegative();

/** One injected upstream error: answered with `status` for a share `rate` of requests. */
const mockErrorSchema = z
  .object({
    status: z.number().int().min(400).max(599),
    rate: z.number().min(0).max(1),
    /** Sent as `retry-after` / `retry-after-ms` (useful with 429 and 503). */
    retryAfterS: z.number().nonnegative().optional(),
  })
  .strict();

/** One injected transport fault, for a share `rate` of requests. */
const mockFaultSchema = z
  .object({
    /** `cut`, `stall` and `error_event` apply to streams only. */
    kind: z.enum(['hang', 'reset', 'malformed', 'cut', 'stall', 'error_event']),
    rate: z.number().min(0).max(1),
    /** Content chunks sent before a stream fault strikes. */
    after: z.number().int().nonnegative().default(0),
  })
  .strict();

export const mockScenarioSchema = z
  .object({
    /** Delay before a non-stream answer or the stream's response headers (the commit point). */
    latencyMs: durationMs.default(0),
    /** Random extra delay, uniform in [0, jitterMs]. */
    jitterMs: durationMs.default(0),
    /** Delay between the stream's response headers and its first chunk. */
    ttftMs: durationMs.default(0),
    /** Delay between stream chunks. */
    chunkDelayMs: durationMs.default(0),
    /** Output length when the request does not cap it. */
    completionTokens: z.number().int().positive().default(24),
    /** Injected HTTP errors; one seeded draw per request picks at most one error or fault. */
    errors: z.array(mockErrorSchema).default([]),
    /** Injected transport faults, drawn together with `errors`. */
    faults: z.array(mockFaultSchema).default([]),
  })
  .strict()
  .refine((s) => [...s.errors, ...s.faults].reduce((sum, e) => sum + e.rate, 0) <= 1 + 1e-9, {
    message: 'the rates of errors and faults add up to more than 1',
    path: ['errors'],
  });

export type MockScenario = z.infer<typeof mockScenarioSchema>;
export type MockScenarioInput = z.input<typeof mockScenarioSchema>;
