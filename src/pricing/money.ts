// Money is counted in integer micro-dollars (1e-6 $) everywhere: prices, costs, budgets.

/**
 * Exact decimal dollars → integer micro-dollars (up to 6 decimals).
 *
 * @example dollarsToMicros('0.15') // → 150_000
 */
export function dollarsToMicros(dollars: string | number): number {
  const text = typeof dollars === 'number' ? dollars.toFixed(6) : dollars.trim();
  const match = /^(\d+)(?:\.(\d{1,6}))?$/.exec(text);
  if (!match) throw new RangeError(`"${text}" is not a non-negative dollar amount with at most 6 decimals`);
  const micros = Number(match[1]) * 1_000_000 + Number((match[2] ?? '').padEnd(6, '0'));
  if (!Number.isSafeInteger(micros)) throw new RangeError(`$${text} is too large`);
  return micros;
}

/** Integer micro-dollars → `$12.345678` with trailing zeros trimmed to cents. */
export function formatMicros(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  const whole = Math.floor(abs / 1_000_000);
  const fraction = String(abs % 1_000_000)
    .padStart(6, '0')
    .replace(/0{1,4}$/, '');
  return `${sign}$${whole}.${fraction.padEnd(2, '0')}`;
}
