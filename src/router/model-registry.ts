import type { AliasConfig } from './schema.js';
import { GatewayError } from '../core/errors.js';
import type { Deployment } from '../core/types.js';

export interface ModelAlias {
  readonly name: string;
  readonly type: 'chat' | 'embeddings';
  readonly description: string | undefined;
  readonly deployments: readonly Deployment[];
}

/** Aliases (what clients send as `model`) resolved once at start-up into frozen deployments. */
export class ModelRegistry {
  private readonly aliases: ReadonlyMap<string, ModelAlias>;

  constructor(models: Readonly<Record<string, AliasConfig>>) {
    const entries = Object.entries(models).map(([name, entry]): [string, ModelAlias] => [
      name,
      Object.freeze({
        name,
        type: entry.type,
        description: entry.description,
        deployments: Object.freeze(
          entry.deployments.map((d, index) =>
            Object.freeze({
              id: d.id ?? `${name}#${index}`,
              alias: name,
              provider: d.provider,
              model: d.model,
              params: Object.freeze({ ...d.params }),
              override: Object.freeze({ ...d.override }),
            }),
          ),
        ),
      }),
    ]);
    this.aliases = new Map(entries);
  }

  list(): ModelAlias[] {
    return [...this.aliases.values()];
  }

  has(name: string): boolean {
    return this.aliases.has(name);
  }

  /** The alias, or a 404 `model_not_found` that names it. */
  resolve(name: string, type: 'chat' | 'embeddings'): ModelAlias {
    const alias = this.aliases.get(name);
    if (!alias) {
      throw new GatewayError(
        'model_not_found',
        `The model \`${name}\` does not exist or you do not have access to it.`,
        {
          param: 'model',
        },
      );
    }
    if (alias.type !== type) {
      throw new GatewayError(
        'invalid_request',
        `The model \`${name}\` is a ${alias.type} model; it cannot serve ${type}.`,
        {
          param: 'model',
        },
      );
    }
    return alias;
  }
}
