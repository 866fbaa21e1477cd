/** One answer of a burst: its status, headers, and the error code when it failed. */
export interface BurstAnswer {
  status: number;
  headers: Headers;
  code: string | undefined;
}

/**
 * `count` chat calls at once with one key, sent to `bases` in turn (call `i` to `bases[i % n]`),
 * each with its own `x-request-id` (`<idPrefix>-<i>`): the budget tests' concurrent load.
 *
 * @example const answers = await burst([a, b], 200, key, body, 'r');
 */
export function burst(
  bases: readonly string[],
  count: number,
  key: string,
  body: unknown,
  idPrefix: string,
): Promise<BurstAnswer[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      fetch(`${bases[i % bases.length]}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-request-id': `${idPrefix}-${i}`,
          authorization: `Bearer ${key}`,
        },
        body: JSON.stringify(body),
      }).then(async (res) => ({
        status: res.status,
        headers: res.headers,
        code: ((await res.json()) as { error?: { code: string } }).error?.code,
      })),
    ),
  );
}
