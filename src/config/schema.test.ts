import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { configSchema, findUnknownProviders } from './schema.js';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
}
const def = (schema: z.ZodType): Def => schema._zod.def;
const unwrap = (schema: z.ZodType): z.ZodType => {
  const d = def(schema);
  return ['default', 'prefault', 'optional', 'nullable'].includes(d.type) && d.innerType ? unwrap(d.innerType) : schema;
};
const isBranch = (schema: z.ZodType): boolean => {
  const d = def(unwrap(schema));
  if (d.type === 'union') return (d.options ?? []).every((option) => def(unwrap(option)).type === 'object');
  return d.type === 'object' || ((d.type === 'record' || d.type === 'array') && isBranch(d.valueType ?? d.element!));
};

/** An override object whose fields are documented once elsewhere (`meta({ sameFieldsAs })`): one row, not one per field. */
const sameFieldsAs = (schema: z.ZodType): string | undefined => {
  const meta = z.globalRegistry.get(unwrap(schema)) as { sameFieldsAs?: string } | undefined;
  return meta?.sameFieldsAs;
};

/** Every leaf setting, as the docs write it: `providers.<name>.timeouts.connectMs`, `models.<name>.deployments[].model`. */
function settingPaths(schema: z.ZodType, prefix = ''): string[] {
  if (prefix && sameFieldsAs(schema)) return [prefix];
  const d = def(unwrap(schema));
  if (d.type === 'object') {
    return Object.entries(d.shape!).flatMap(([key, child]) => {
      const path = prefix ? `${prefix}.${key}` : key;
      return isBranch(child) ? settingPaths(child, path) : [path];
    });
  }
  if (d.type === 'union') return [...new Set(d.options!.flatMap((option) => settingPaths(option, prefix)))];
  if (d.type === 'record') return settingPaths(d.valueType!, `${prefix}.<name>`);
  if (d.type === 'array') return settingPaths(d.element!, `${prefix}[]`);
  return [prefix];
}

/** Every `sameFieldsAs` target in the schema. */
function referencedGroups(schema: z.ZodType): string[] {
  const found = new Set<string>();
  const walk = (node: z.ZodType): void => {
    const target = sameFieldsAs(node);
    if (target) found.add(target);
    const d = def(unwrap(node));
    if (d.type === 'object') Object.values(d.shape!).forEach(walk);
    if (d.type === 'union') d.options!.forEach(walk);
    if (d.type === 'record') walk(d.valueType!);
    if (d.type === 'array') walk(d.element!);
  };
  walk(schema);
  return [...found];
}

describe('configSchema', () => {
  it('docs/configuration.md documents every setting, and nothing that is not one', () => {
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `([a-zA-Z_<>[\].]+)` +\|/gm)]
      .map((m) => m[1])
      .filter((p) => p?.includes('.'));
    const settings = settingPaths(configSchema);
    assert.deepEqual(
      settings.filter((path) => !documented.includes(path)),
      [],
      'settings missing from docs/configuration.md',
    );
    assert.deepEqual(
      documented.filter((path) => path !== undefined && !settings.includes(path)),
      [],
      'documented settings that do not exist',
    );
  });

  it('override objects name a documented group of settings', () => {
    const settings = settingPaths(configSchema);
    const overrides = referencedGroups(configSchema);
    assert.ok(overrides.length > 0);
    for (const group of overrides) {
      assert.ok(
        settings.some((path) => path.startsWith(`${group}.`)),
        `sameFieldsAs '${group}' is not a group of settings`,
      );
    }
  });

  it('checks provider references on raw input as well as on parsed config', () => {
    const raw = { providers: { a: 'not even an object' }, models: { m: { deployments: [{ provider: 'b' }, 7] } } };
    assert.deepEqual(findUnknownProviders(raw), [
      { path: ['models', 'm', 'deployments', 0, 'provider'], message: 'unknown provider "b" (configured: a)' },
    ]);
    const parsed = configSchema.safeParse({ models: { m: { deployments: [{ provider: 'x', model: 'y' }] } } });
    assert.ok(!parsed.success);
    assert.equal(parsed.error.issues[0]?.message, 'unknown provider "x" (configured: none)');
  });
});
