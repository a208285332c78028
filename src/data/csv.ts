// CSV text → header and string cells, parsed by Papa Parse, with errors that name the file and
// the line. Numbers are interpreted later (src/data/table.ts), where the column's role is known.
import Papa from 'papaparse';

export class DataError extends Error {
  override readonly name = 'DataError';
}

export interface CsvTable {
  file: string;
  columns: string[];
  /** Data rows (header excluded), each with exactly columns.length cells. */
  rows: string[][];
  /** 1-based line number of each data row in the file, for error messages. */
  lines: number[];
}

export function parseCsv(text: string, file: string): CsvTable {
  if (text.trim() === '') throw new DataError(`${file}: the file is empty`);
  const parsed = Papa.parse<string[]>(text, { skipEmptyLines: false, delimiter: '' });
  const quoteError = parsed.errors.find((e) => e.type === 'Quotes');
  if (quoteError) throw new DataError(`${file}: line ${(quoteError.row ?? 0) + 1}: ${quoteError.message}`);
  const all = parsed.data;
  const isBlank = (row: string[]) => row.length === 1 && row[0]!.trim() === '';
  const headerIndex = all.findIndex((row) => !isBlank(row));
  if (headerIndex < 0) throw new DataError(`${file}: no header row (only blank lines)`);
  const columns = all[headerIndex]!.map((c) => c.trim());
  const seen = new Set<string>();
  columns.forEach((name, i) => {
    if (name === '') throw new DataError(`${file}: line ${headerIndex + 1}: column ${i + 1} of the header has no name`);
    if (seen.has(name)) throw new DataError(`${file}: line ${headerIndex + 1}: the header names column "${name}" twice`);
    seen.add(name);
  });
  const rows: string[][] = [];
  const lines: number[] = [];
  for (let i = headerIndex + 1; i < all.length; i++) {
    const row = all[i]!;
    if (isBlank(row)) continue;
    if (row.length !== columns.length) {
      throw new DataError(`${file}: line ${i + 1} has ${row.length} fields, the header has ${columns.length}`);
    }
    rows.push(row);
    lines.push(i + 1);
  }
  if (rows.length === 0) throw new DataError(`${file}: no data rows after the header`);
  return { file, columns, rows, lines };
}
