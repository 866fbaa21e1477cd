import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { REPO_ROOT, childEnv } from '../helpers/process.js';

// Issue 8, item 9: the package a user installs is compiled JavaScript with types, and nothing else.

const run = promisify(execFile);
const npmEnv = childEnv({ npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' });
const version = (name: string): string =>
  (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
    .version;

const CONSUMER_MJS = `
import assert from 'node:assert/strict';
import { createGateway } from 'tollgate';
const gateway = await createGateway({
  config: {
    storage: { url: 'sqlite::memory:' },
    log: { level: 'silent' },
    providers: { mock: { type: 'mock' } },
    models: { fast: { deployments: [{ provider: 'mock', model: 'mock-1' }] } },
  },
});
const reply = await gateway.chat({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
await gateway.close();
assert.equal(reply.object, 'chat.completion');
assert.equal(reply.model, 'mock-1');
console.log(JSON.stringify({ content: reply.choices[0].message.content, usage: reply.usage }));
`;

const CONSUMER_TS = `
import { createGateway, GatewayError, type ChatResponse, type Gateway, type GatewayOptions } from 'tollgate';
import { createHttpServer, type HttpServer } from 'tollgate/server';

const options: GatewayOptions = { config: { storage: { url: 'sqlite::memory:' } } };
const gateway: Gateway = await createGateway(options);
const reply: ChatResponse = await gateway.chat({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
const tokens: number | undefined = reply.usage?.total_tokens;
const server: HttpServer = createHttpServer(gateway);
// @ts-expect-error: the types are real, not \`any\` (choices is not a number)
const wrong: number = reply.choices;
void wrong;
export { tokens, server, GatewayError };
`;

void describe('the npm package', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-pack-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  void it(
    'packs dist/ only; installs with --omit=dev; imports from .mjs and typechecks from .ts',
    { timeout: 400_000 },
    async () => {
      // A copy of the working tree (without node_modules, dist/, data), so packing builds the
      // current sources without touching the tree's own dist/ that other tests may be running.
      const source = join(dir, 'source');
      const skip = new Set(['node_modules', 'dist', 'data', '.git', '.bench-out', 'coverage']);
      cpSync(REPO_ROOT, source, { recursive: true, filter: (from) => !skip.has(basename(from)) });
      symlinkSync(join(REPO_ROOT, 'node_modules'), join(source, 'node_modules'), 'dir');

      const { stdout: packed } = await run('npm', ['pack', '--json', '--pack-destination', dir], {
        cwd: source,
        env: npmEnv,
        timeout: 240_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      const [pack] = JSON.parse(packed.slice(packed.search(/^\[/m))) as {
        filename: string;
        size: number;
        files: { path: string }[];
      }[];
      const files = pack!.files.map((f) => f.path);
      console.log(`# tarball ${pack!.filename}: ${pack!.size} bytes, ${files.length} files`);

      // What is in it: the build, the bin, the README, the LICENSE; no tests, bench, TypeScript sources or local files.
      for (const file of files) {
        assert.ok(
          file.startsWith('dist/') || ['package.json', 'README.md', 'LICENSE', 'bin/tollgate.js'].includes(file),
          file,
        );
        assert.doesNotMatch(file, /(^|\/)(test|bench)\//, file);
        assert.ok(!file.endsWith('.ts') || file.endsWith('.d.ts'), file);
        assert.doesNotMatch(file, /\.(test|bench)\.|-test-kit\.|-contract\./, file);
      }
      for (const needed of [
        'dist/index.js',
        'dist/index.d.ts',
        'dist/server.js',
        'dist/server.d.ts',
        'dist/cli/main.js',
        'LICENSE',
      ])
        assert.ok(files.includes(needed), needed);
      assert.ok(files.includes('dist/pricing/prices.json'), 'the bundled price table');

      // A consumer project: the tarball with production dependencies only. better-sqlite3 is pinned to
      // the version this checkout built and its native binary copied in (its install script would
      // compile it for minutes); @types/node is the consumer's own, as in any Node TypeScript project.
      const consumer = join(dir, 'consumer');
      mkdirSync(consumer);
      writeFileSync(
        join(consumer, 'package.json'),
        JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
      );
      await run(
        'npm',
        [
          'install',
          '--omit=dev',
          '--prefer-offline',
          '--ignore-scripts',
          '--no-audit',
          '--no-fund',
          join(dir, pack!.filename),
          `better-sqlite3@${version('better-sqlite3')}`,
          `@types/node@${version('@types/node')}`,
        ],
        { cwd: consumer, env: npmEnv, timeout: 240_000 },
      );
      const installed = join(consumer, 'node_modules');
      const native = join('better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
      mkdirSync(join(installed, native, '..'), { recursive: true });
      copyFileSync(join(REPO_ROOT, 'node_modules', native), join(installed, native));
      for (const dev of ['typescript', 'tsx', 'eslint', '@types/better-sqlite3', '@types/pg'])
        assert.throws(() => readFileSync(join(installed, dev, 'package.json')), `${dev} is not installed`);

      writeFileSync(join(consumer, 'use.mjs'), CONSUMER_MJS);
      writeFileSync(join(consumer, 'use.ts'), CONSUMER_TS);
      writeFileSync(
        join(consumer, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            noEmit: true,
            // Check the package's .d.ts too: an import of a type package it does not depend on fails here.
            skipLibCheck: false,
            types: ['node'],
          },
          files: ['use.ts'],
        }),
      );
      const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const [plain, typed, help] = await Promise.all([
        run(process.execPath, ['use.mjs'], { cwd: consumer, env: childEnv(), timeout: 60_000 }),
        run(process.execPath, [tsc, '-p', '.'], { cwd: consumer, timeout: 240_000 }).catch(
          (err: Error & { stdout?: string }) => ({ stdout: `tsc failed:\n${err.stdout ?? err.message}`, failed: true }),
        ),
        run(join(installed, '.bin', 'tollgate'), ['--help'], { cwd: consumer, env: childEnv(), timeout: 60_000 }),
      ]);

      const answer = JSON.parse(plain.stdout.trim().split('\n').at(-1)!) as {
        content: string;
        usage: { prompt_tokens: number; total_tokens: number };
      };
      assert.match(answer.content, /^Mock reply to: hi\b/);
      assert.equal(answer.usage.prompt_tokens, 8);
      assert.ok(answer.usage.total_tokens > 8);
      assert.ok(!('failed' in typed), typed.stdout);
      assert.match(help.stdout, /^Usage: tollgate/m);
    },
  );
});
