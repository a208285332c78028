// Rows that do not fit in memory, read window by window: what the streaming trainer needs from a
// file (CSV: src/io/csv-stream.ts, Parquet: src/io/parquet-stream.ts, both in sigmtl/node) or
// from anything else that can hand out row ranges.
import type { TaskTable } from './table.js';

export interface RowWindow extends TaskTable {
  /** The index (0-based, in file order) of the window's first row among all data rows. */
  first: number;
}

export interface RowSource {
  /** For messages: the file. */
  readonly name: string;
  readonly featureNames: string[];
  readonly taskNames: string[];
  /** Data rows in all. */
  readonly rows: number;
  /** Windows of consecutive rows; each fits the memory budget it was opened with. */
  readonly windows: number;
  /** Window `index`'s rows, in file order (targets 0 and mask 0 where missing). */
  readWindow(index: number): Promise<RowWindow>;
}
