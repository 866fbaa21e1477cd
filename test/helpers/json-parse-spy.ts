/**
 * Records every `JSON.parse` made while `run` runs (sync or async), then restores it: for tests
 * that prove a path relays text without parsing it.
 *
 * @example const { parsed } = await spyOnJsonParse(() => batch.toSse()); assert.equal(parsed.length, 0);
 */
export async function spyOnJsonParse<T>(run: () => T | Promise<T>): Promise<{ value: T; parsed: string[] }> {
  const original = JSON.parse;
  const parsed: string[] = [];
  JSON.parse = ((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
    parsed.push(text);
    return original(text, reviver);
  }) as typeof JSON.parse;
  try {
    return { value: await run(), parsed };
  } finally {
    JSON.parse = original;
  }
}
