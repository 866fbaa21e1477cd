import { Command } from 'commander';
import { ConfigError } from '../config/format-errors.js';
import { CliError } from './cli-error.js';
import { registerCommandGroups } from './command-groups.js';
import type { ServeOptions } from './serve.js';

// Only commander and the two error classes load up front: each command imports what it runs, so
// `tollgate --help` (and a typo) answer at once, and `serve` loads neither the CLI's storage commands nor the mock server.
const program = new Command('tollgate').description('The production layer for LLM applications.').showHelpAfterError();

program
  .command('serve', { isDefault: true })
  .description('run the gateway (embedded default when no config file exists)')
  .option('-c, --config <path>', 'config file (default: $TOLLGATE_CONFIG or ./tollgate.yaml)')
  .option('-p, --port <port>', 'port to listen on (default: $PORT or 4000)')
  .option('-H, --host <host>', 'interface to bind (default: $HOST or 127.0.0.1)')
  .option(
    '-w, --workers <n>',
    'worker processes on the one port: a count or auto (one per core; default: server.workers or 1)',
  )
  .action(async (options: ServeOptions) => (await import('./serve.js')).serve(options));

const configCommand = program.command('config').description('inspect configuration');
configCommand
  .command('check')
  .description('validate the configuration; exit non-zero listing every bad field')
  .option('-c, --config <path>', 'config file')
  .option('--print', 'print the effective configuration (secrets redacted)')
  .action(async (options: { config?: string; print?: boolean }) => {
    const { loadConfig, printableConfig } = await import('../config/load.js');
    const loaded = await loadConfig(options.config ? { path: options.config } : {});
    const from = loaded.source.embedded ? 'embedded default' : loaded.source.files.join(' + ');
    for (const note of loaded.notes) console.error(note);
    if (options.print) process.stdout.write(printableConfig(loaded.config));
    console.error(`configuration OK (${from})`);
  });

program
  .command('mock')
  .description('run the built-in mock LLM server (OpenAI and Anthropic wire formats) for tests and local development')
  .option('-p, --port <port>', 'port', '9100')
  .option('-H, --host <host>', 'interface', '127.0.0.1')
  .option('--seed <n>', 'seed for generated text and injected faults', '42')
  .option('--latency-ms <ms>', 'delay before answering / first chunk', '0')
  .option('--chunk-delay-ms <ms>', 'delay between stream chunks', '0')
  .action(async (options: { port: string; host: string; seed: string; latencyMs: string; chunkDelayMs: string }) => {
    const { startMockServer } = await import('../mock/mock-server.js');
    const server = await startMockServer({
      port: Number(options.port),
      host: options.host,
      seed: Number(options.seed),
      scenario: { latencyMs: Number(options.latencyMs), chunkDelayMs: Number(options.chunkDelayMs) },
    });
    console.log(`tollgate mock listening on ${server.url}`);
    const stop = (): void => void server.close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });

await registerCommandGroups(program, process.argv.slice(2));

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  if (err instanceof CliError) {
    console.error(`error: ${err.message}`);
    process.exit(1);
  }
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
