import type { ProviderConfig } from './schema.js';
import type { Clock } from '../core/clock.js';
import { createAnthropicProvider } from './anthropic/anthropic-provider.js';
import { createMockProvider } from './mock/mock-provider.js';
import { createOpenAIProvider } from './openai/openai-provider.js';
import type { Provider } from './types.js';

/** Builds the adapter for one configured provider instance. */
export function createProvider(id: string, config: ProviderConfig, clock: Clock): Provider {
  switch (config.type) {
    case 'openai':
      return createOpenAIProvider(id, config);
    case 'mock':
      return createMockProvider(id, config, clock);
    case 'anthropic':
      return createAnthropicProvider(id, config);
  }
}
