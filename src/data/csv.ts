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
  // Records and the line each starts on (a quoted cell may span lines, so record ≠ line).
  const all: string[][] = [];
  const startLines: number[] = [];
  let quoteError: { message: string; record: number } | undefined;
  let consumed = 0;
  let line = 1;
  // Without quotes every record is one line: no need to count the newlines inside records.
  const quoted = text.includes('"');
  Papa.parse<string[]>(text, {
    skipEmptyLines: false,
    delimiter: '',
    step: (result) => {
      startLines.push(quoted ? line : all.length + 1);
      all.push(result.data);
      const quotes = result.errors.find((e) => e.type === 'Quotes');
      if (quotes && !quoteError) quoteError = { message: quotes.message, record: all.length - 1 };
      if (!quoted) return;
      const end = result.meta.cursor;
      for (let i = consumed; i < end; i++) if (text.charCodeAt(i) === 10) line++;
      consumed = end;
    },
  });
  if (quoteError) throw new DataError(`${file}: line ${startLines[quoteError.record]}: ${quoteError.message}`);
  const isBlank = (row: string[]) => row.length === 1 && row[0]!.trim() === '';
  const headerIndex = all.findIndex((row) => !isBlank(row));
  if (headerIndex < 0) throw new DataError(`${file}: no header row (only blank lines)`);
  const lineOf = (record: number) => startLines[record]!;
  const columns = headerColumns(all[headerIndex]!, file, lineOf(headerIndex));
  const rows: string[][] = [];
  const lines: number[] = [];
  for (let i = headerIndex + 1; i < all.length; i++) {
    const row = all[i]!;
    if (isBlank(row)) continue;
    if (row.length !== columns.length) {
      throw new DataError(`${file}: line ${lineOf(i)} has ${row.length} fields, the header has ${columns.length}`);
    }
    rows.push(row);
    lines.push(lineOf(i));
  }
  if (rows.length === 0) throw new DataError(`${file}: no data rows after the header`);
  return { file, columns, rows, lines };
}

/** The header's column names, trimmed; an empty or repeated name is an error naming the line. */
export function headerColumns(cells: readonly string[], file: string, line: number): string[] {
  const columns = cells.map((c) => c.trim());
  const seen = new Set<string>();
  columns.forEach((name, i) => {
    if (name === '') throw new DataError(`${file}: line ${line}: column ${i + 1} of the header has no name`);
    if (seen.has(name)) throw new DataError(`${file}: line ${line}: the header names column "${name}" twice`);
    seen.add(name);
  });
  return columns;
}

/** One CSV record's cells (Papa Parse), for a header read on its own. */
export function parseCsvRecord(text: string): string[] {
  return Papa.parse<string[]>(text, { delimiter: '' }).data[0] ?? [];
}
