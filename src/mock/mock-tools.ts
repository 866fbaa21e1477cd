import type { ChatRequest, ToolDefinition } from '../core/types.js';
import type { Random } from './mock-random.js';
import { VOCABULARY } from './mock-text.js';
import { messageText } from './mock-tokens.js';

/**
 * When and how the mock calls a tool. It calls one when `tool_choice` names a function or is
 * `required`, or (with `auto`) when the last message is the user's and mentions a tool by name;
 * a tool result as the last message gets a text answer, so agent loops end.
 * // limitation: one tool call per reply, never parallel calls.
 */
export function chooseTool(req: ChatRequest, rng: Random): ToolDefinition | null {
  const tools = req.tools ?? [];
  const choice = req.tool_choice;
  if (tools.length === 0 || choice === 'none') return null;
  if (typeof choice === 'object') return tools.find((t) => t.function.name === choice.function.name) ?? null;
  if (choice === 'required') return rng.pick(tools);
  const last = req.messages[req.messages.length - 1];
  if (!last || last.role !== 'user') return null;
  const text = messageText(last).toLowerCase();
  return (
    tools.find((t) => {
      const name = t.function.name.toLowerCase();
      return text.includes(name) || text.includes(name.replace(/_/g, ' '));
    }) ?? null
  );
}

/**
 * JSON arguments that satisfy the tool's parameter schema in the common cases (types, enums,
 * bounds, nested objects and arrays), with every declared property filled in.
 *
 * @example toolArguments({ type: 'function', function: { name: 'f', parameters: { type: 'object',
 *   properties: { unit: { enum: ['c', 'f'] } } } } }, rng) // → '{"unit":"f"}'
 */
export function toolArguments(tool: ToolDefinition, rng: Random): string {
  const parameters = tool.function.parameters ?? { type: 'object', properties: {} };
  return JSON.stringify(valueFor(parameters, rng, 0));
}

const MAX_DEPTH = 4;

function valueFor(schema: unknown, rng: Random, depth: number): unknown {
  if (!isRecord(schema)) return rng.pick(VOCABULARY);
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return rng.pick(schema.enum as unknown[]);
  if ('const' in schema) return schema.const;
  const variants = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(variants) && variants.length > 0) return valueFor(variants[0], rng, depth);
  const type = Array.isArray(schema.type) ? (schema.type as unknown[]).find((t) => t !== 'null') : schema.type;
  const min = typeof schema.minimum === 'number' ? schema.minimum : 0;
  const max = typeof schema.maximum === 'number' ? schema.maximum : min + 100;
  switch (type) {
    case 'integer':
      return rng.int(Math.ceil(min), Math.floor(max));
    case 'number':
      return Math.round((min + rng.next() * (max - min)) * 100) / 100;
    case 'boolean':
      return rng.next() < 0.5;
    case 'null':
      return null;
    case 'array':
      return depth < MAX_DEPTH ? [valueFor(schema.items, rng, depth + 1)] : [];
    case 'object':
      return depth < MAX_DEPTH ? objectFor(schema, rng, depth) : {};
    default:
      return `${rng.pick(VOCABULARY)} ${rng.pick(VOCABULARY)}`;
  }
}

function objectFor(schema: Record<string, unknown>, rng: Random, depth: number): Record<string, unknown> {
  const properties = isRecord(schema.properties) ? schema.properties : {};
  const out: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(properties)) out[key] = valueFor(property, rng, depth + 1);
  return out;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
