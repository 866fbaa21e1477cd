/**
 * Left-aligned columns separated by two spaces, for terminal output.
 *
 * @example formatTable([['ID', 'NAME'], ['acme', 'Acme Inc']]) // → 'ID    NAME\nacme  Acme Inc'
 */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
