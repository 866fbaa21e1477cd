/**
 * The mock LLM: a deterministic OpenAI-compatible upstream with failure injection, as an
 * in-process provider (`type: mock` in config) and as a standalone server (`tollgate mock`).
 * See docs/mock.md.
 */
export { createMockProvider } from './mock-provider.js';
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
