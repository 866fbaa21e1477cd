import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every virtual key starts with this, so scanners (and people) can recognise a leaked one. */
export const KEY_PREFIX = 'tg-';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 43 base62 characters carry 256 bits (43 × log2 62 ≈ 256.03). */
const SECRET_CHARS = 43;
const KEY_SHAPE = new RegExp(`^${KEY_PREFIX}[0-9A-Za-z]{${SECRET_CHARS}}$`);
/** Characters shown when listing keys: `tg-` and the first 6 of the secret (~36 bits; 220 stay secret). */
const DISPLAY_CHARS = KEY_PREFIX.length + 6;

/**
 * `count` characters of base62 drawn uniformly from the CSPRNG: bytes ≥ 248 (= 4 × 62) are
 * thrown away instead of taken modulo 62, which would favour the first eight characters.
 *
 * @example randomBase62(16) // → 'q3ZP0c1XbT9m2kLr'
 */
export function randomBase62(count: number): string {
  let out = '';
  while (out.length < count) {
    for (const byte of randomBytes(count + 8)) {
      if (byte >= 248) continue;
      out += ALPHABET[byte % 62];
      if (out.length === count) break;
    }
  }
  return out;
}

/**
 * A fresh virtual key: `tg-` + 43 base62 characters (256 bits from the CSPRNG). Shown to its
 * owner once; only its hash is stored.
 *
 * @example generateKeySecret() // → 'tg-4fQ2…' (46 characters)
 */
export function generateKeySecret(): string {
  return KEY_PREFIX + randomBase62(SECRET_CHARS);
}

/**
 * The stored form of a key: lower-case hex SHA-256 of the whole key.
 *
 * Why a plain SHA-256 and not a slow hash (bcrypt, scrypt) or an HMAC with a server pepper: the
 * key is 256 random bits, so nothing short of 2^255 guesses inverts its hash, whatever the hash
 * costs; a slow hash would only cost CPU on every cache miss. A pepper protects low-entropy
 * secrets, which these are not, and would make every key depend on one more secret that the
 * CLI, every replica and every backup must share (lose it and every key is dead). Stored hashes
 * are therefore as safe to leak as random numbers — but they still authenticate nothing:
 * the gateway hashes what the client sends.
 *
 * @example hashKeySecret('tg-abc') // → '3b0c…' (64 hex characters)
 */
export function hashKeySecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Whether `value` has the exact shape of a key this gateway issues (cheap; checked before any lookup). */
export function isKeyShaped(value: string): boolean {
  return KEY_SHAPE.test(value);
}

/** Whether `value` claims to be a Tollgate key (starts with `tg-`), well-formed or not. */
export function claimsToBeKey(value: string): boolean {
  return value.startsWith(KEY_PREFIX);
}

/** What lists and logs show of a key: `tg-4fQ2aB…`. */
export function displayPrefix(secret: string): string {
  return secret.slice(0, DISPLAY_CHARS);
}

/**
 * An opaque record id: `<kind>_` + 16 base62 characters (~95 bits), e.g. `key_9Qm3…`.
 *
 * @example newId('key') // → 'key_x7Kp0QzL2mN8vB4c'
 */
export function newId(kind: string): string {
  return `${kind}_${randomBase62(16)}`;
}

/**
 * Compares a presented credential with the configured admin key in constant time: both are
 * hashed first, so `timingSafeEqual` always sees 32 bytes and neither the content nor the
 * length of the real key shows in the timing.
 *
 * @example constantTimeEquals(headerValue, config.admin.apiKey.reveal()) // → true / false
 */
export function constantTimeEquals(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
