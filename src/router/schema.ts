import { z } from 'zod';
import { deploymentPricingFields } from '../pricing/schema.js';
import { aliasResilienceFields, deploymentResilienceFields } from '../resilience/schema.js';

/* `models.<alias>`: what clients send as `model`, and the deployments that serve it. */

export const deploymentSchema = z
  .object({
    id: z.string().min(1).optional(),
    provider: z.string().min(1),
    model: z.string().min(1),
    /** Defaults merged under the client's parameters. */
    params: z.record(z.string(), z.unknown()).default({}),
    /** Parameters forced over the client's. */
    override: z.record(z.string(), z.unknown()).default({}),
    ...deploymentResilienceFields,
    /** How this deployment is priced when the table does not say (`price`, `priceAs` or `free`). */
    ...deploymentPricingFields,
  })
  .strict();

export const aliasSchema = z
  .object({
    deployments: z.array(deploymentSchema).min(1),
    /** `chat` (default) or `embeddings`. */
    type: z.enum(['chat', 'embeddings']).default('chat'),
    description: z.string().optional(),
    ...aliasResilienceFields,
  })
  .strict()
  .refine((alias) => new Set(alias.deployments.map((d, i) => d.id ?? `\0${i}`)).size === alias.deployments.length, {
    message: 'deployment ids must be unique within an alias',
    path: ['deployments'],
  });

export type AliasConfig = z.infer<typeof aliasSchema>;
export type DeploymentConfig = z.infer<typeof deploymentSchema>;
