/** `scheme://` and the authority after it (up to the path, query or fragment). */
const AUTHORITY = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i;

/**
 * The text with the password of a URL's userinfo replaced by `***` (`postgres://app:s3cret@db/x`
 * → `postgres://app:***@db/x`); anything else is returned as it is. The last `@` of the
 * authority ends the userinfo, as URL parsers read it, so a password holding an unencoded `@`
 * is hidden whole.
 *
 * @example redactUrlPassword('redis://:hunter2@cache:6379/0') // → 'redis://:***@cache:6379/0'
 */
export function redactUrlPassword(text: string): string {
  const match = AUTHORITY.exec(text);
  if (!match) return text;
  const [whole, scheme, authority] = match as unknown as [string, string, string];
  const at = authority.lastIndexOf('@');
  const colon = authority.indexOf(':');
  if (at < 0 || colon < 0 || colon > at) return text;
  return `${scheme}${authority.slice(0, colon)}:***${authority.slice(at)}${text.slice(whole.length)}`;
}
