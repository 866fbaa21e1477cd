import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { ConfigInput } from '../../src/config/schema.js';
import { openGateway, type InternalGateway } from '../../src/gateway.js';
import type { CallObserver } from '../../src/observability/call-summary.js';
import { createHttpServer, type HttpServer } from '../../src/server/app.js';

export interface TestGateway {
  url: string;
  gateway: InternalGateway;
  server: HttpServer;
  close(): Promise<void>;
}

/** A real gateway on a real loopback socket (random port), with an in-memory SQLite ledger unless told otherwise. */
export async function startTestGateway(
  config: ConfigInput,
  options: { observers?: CallObserver[]; logger?: pino.Logger } = {},
): Promise<TestGateway> {
  const gateway = await openGateway({
    config: { storage: { url: 'sqlite::memory:' }, ...config },
    logger: options.logger ?? pino({ level: 'silent' }),
    ...(options.observers ? { observers: options.observers } : {}),
  });
  const server = createHttpServer(gateway);
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = server.app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    gateway,
    server,
    async close() {
      await server.app.close();
      await gateway.close();
    },
  };
}
