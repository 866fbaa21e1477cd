/**
 * The mock LLM: a deterministic OpenAI-compatible upstream with failure injection, run as a
 * standalone server (`tollgate mock`) or in-process by the `type: mock` provider
 * (providers/mock/mock-provider.ts, built on this engine). See docs/mock.md.
 */
export { startMockServer, type MockServer, type MockServerOptions } from './mock-server.js';
export {
  generateChatReply,
  toChatChunks,
  toChatResponse,
  type MockChatOptions,
  type MockReply,
} from './mock-engine.js';
export { generateEmbeddings, DEFAULT_DIMENSIONS } from './mock-embeddings.js';
export {
  createFaultPlanner,
  MOCK_HEADERS,
  MockHeaderError,
  type MockFault,
  type MockFaultPlanner,
  type MockPlan,
} from './mock-faults.js';
export { loadChatTokenCounter, loadEmbeddingTokenCounter, type ChatTokenCounter } from './mock-tokens.js';
