// CSV text as RFC 4180 has it: comma-separated, CRLF line ends, a field quoted when it
// holds a comma, a quote, a line break or leading/trailing space, quotes doubled inside.

export function csvField(value: string | number | null | undefined): string {
  const s = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A header row and data rows as one CSV document (ending with a line break). */
export function csvText(head: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[]): string {
  return [head, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}
