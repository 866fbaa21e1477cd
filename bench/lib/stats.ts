/** Nearest-rank percentile (p in 0..100). Pass `sorted` when the array is already ascending. */
export function percentile(values: readonly number[], p: number, sorted = false): number | null {
  if (values.length === 0) return null;
  const s = sorted ? values : [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))]!;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}
