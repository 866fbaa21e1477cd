/**
 * Reading JSON text without parsing it: whether it is a whole object, whether it has a key, and
 * the text of one object value. Safe because of JSON's escaping: inside a string value every `"`
 * is escaped, so an unescaped `"usage":` can only be a key (of some object in the text).
 */

/**
 * Starts with `{` and ends with `}` (surrounding whitespace allowed): the cheap check that a frame
 * or a body was not cut short, the corruption a relay sees. Damage inside the braces is caught
 * wherever the text is parsed, or by the client.
 */
export function isJsonObjectText(text: string): boolean {
  const trimmed = text.charCodeAt(0) === 0x7b && text.charCodeAt(text.length - 1) === 0x7d ? text : text.trim();
  return trimmed.charCodeAt(0) === 0x7b && trimmed.charCodeAt(trimmed.length - 1) === 0x7d;
}

/** Whether the JSON text has the key (quoted, e.g. `"error"`) followed by `:`; see the module comment on escaping. */
export function hasKey(text: string, quotedKey: string): boolean {
  return valueAt(text, quotedKey) >= 0;
}

/** Whether the key's value is an object (`"usage":{`), whitespace allowed. */
export function hasObjectAt(text: string, quotedKey: string): boolean {
  const at = valueAt(text, quotedKey);
  return at >= 0 && text.charCodeAt(at) === 0x7b;
}

/** Index of the value after `quotedKey` and its colon, or -1. */
function valueAt(text: string, quotedKey: string): number {
  let from = 0;
  for (;;) {
    const at = text.indexOf(quotedKey, from);
    if (at < 0) return -1;
    const i = skipSpace(text, at + quotedKey.length);
    if (text.charCodeAt(i) === 0x3a /* : */) return skipSpace(text, i + 1);
    from = at + 1;
  }
}

function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
    i++;
  }
}

/**
 * The text of the object value of `quotedKey` (from its `{` to the matching `}`, strings and
 * escapes skipped), or null when the key is absent, its value is not an object, or the text
 * ends first.
 *
 * @example objectTextAt('{"a":1,"usage":{"total_tokens":3}}', '"usage"') // → '{"total_tokens":3}'
 */
export function objectTextAt(text: string, quotedKey: string): string | null {
  const start = valueAt(text, quotedKey);
  if (start < 0 || text.charCodeAt(start) !== 0x7b) return null;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b) depth++;
    else if (c === 0x7d && --depth === 0) return text.slice(start, i + 1);
  }
  return null;
}
