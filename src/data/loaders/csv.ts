// A small RFC 4180 CSV reader (quoted fields, doubled quotes, CRLF), enough for the ISIC
// ground-truth files and users' label lists without a dependency.
import { readFile } from 'node:fs/promises';
import { DatasetError, reasonOf } from '../errors.js';

/** The rows of a CSV file; an unreadable file is a DatasetError naming it and the dataset. */
export async function readCsvFile(dataset: string, csvPath: string): Promise<string[][]> {
  let text: string;
  try {
    text = await readFile(csvPath, 'utf8');
  } catch (err) {
    throw new DatasetError(`${dataset}: cannot read ${csvPath}: ${reasonOf(err)}`, dataset, csvPath, { cause: err });
  }
  return parseCsv(text);
}

export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // byte-order mark
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.map((r) => r.map((f) => f.trim()));
}
