import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandString, interpolate } from './interpolate.js';

describe('expandString', () => {
  const env = { HOST: 'db', EMPTY: '' };

  it('expands ${VAR} and ${VAR:-default}, taking the default when unset or empty', () => {
    assert.deepEqual(expandString('postgres://${HOST}:${PORT:-5432}/${EMPTY:-app}', env), {
      text: 'postgres://db:5432/app',
      errors: [],
    });
  });

  it('keeps an empty variable empty when there is no default', () => {
    assert.equal(expandString('[${EMPTY}]', env).text, '[]');
  });

  it('turns $${ into a literal ${ and leaves a lone $ alone', () => {
    assert.equal(expandString('$${HOST} costs $5', env).text, '${HOST} costs $5');
  });

  it('reports unset, malformed and unterminated references', () => {
    assert.deepEqual(expandString('${MISSING}', env).errors, ['environment variable MISSING is not set']);
    assert.match(expandString('${1BAD}', env).errors[0] ?? '', /malformed reference "\$\{1BAD\}"/);
    assert.match(expandString('x ${HOST', env).errors[0] ?? '', /unterminated/);
  });
});

describe('interpolate', () => {
  it('walks maps and arrays, leaves keys alone and types whole-string numbers and booleans', () => {
    const tree = { '${HOST}': 'a', n: '${N}', b: '${B}', mixed: 'v${N}', list: ['${HOST}', 1, null] };
    const result = interpolate(tree, { HOST: 'h', N: '42', B: 'true' });
    assert.deepEqual(result.value, { '${HOST}': 'a', n: 42, b: true, mixed: 'v42', list: ['h', 1, null] });
    assert.deepEqual(
      result.coercions.map((c) => [c.path, c.text]),
      [
        [['n'], '42'],
        [['b'], 'true'],
      ],
    );
    assert.deepEqual(tree.n, '${N}', 'the input is not modified');
  });

  it('reports each failure at the path of its value', () => {
    const { issues } = interpolate({ models: { 'gpt-4o': { deployments: [{ model: '${M}' }] } } }, {});
    assert.deepEqual(issues, [
      { path: 'models.gpt-4o.deployments.0.model', message: 'environment variable M is not set' },
    ]);
  });
});
