/**
 * `tollgate/server`: the HTTP edge (fastify) over a gateway built with `createGateway`, for
 * embedding the OpenAI-compatible server in your own process.
 *
 * @example
 * import { createGateway } from 'tollgate';
 * import { createHttpServer } from 'tollgate/server';
 * const server = createHttpServer(await createGateway({ config: { storage: { url: 'sqlite::memory:' } } }));
 */
export { createHttpServer } from './server/app.js';
export type { HttpServer } from './server/app.js';
