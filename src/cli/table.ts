// Plain aligned text tables for the terminal.

/** Rows of cells as aligned columns under a header, separated by two spaces. */
export function textTable(head: readonly string[], rows: readonly (readonly string[])[], rightAlign: readonly number[] = []): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (rightAlign.includes(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
