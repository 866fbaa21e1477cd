import { isIP } from 'node:net';

/**
 * Whether a listen address only accepts connections from this machine: `localhost`, 127.0.0.0/8,
 * `::1` and `::ffff:127.x.x.x`. `0.0.0.0`, `::` and every other address are not.
 *
 * @example isLoopbackHost('127.0.0.1') // → true;  isLoopbackHost('0.0.0.0') // → false
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h) || h === '0:0:0:0:0:0:0:1';
  return false;
}
