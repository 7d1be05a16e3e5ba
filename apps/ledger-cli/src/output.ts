/**
 * How the console prints: a table for people, or one JSON object per line with
 * `--json` for scripts. A reader that goes away (`ledger agency list | head`)
 * ends the console quietly, as other Unix tools do, not with a stack trace.
 */
export function printRows<T extends object>(
  rows: readonly T[],
  columns: ReadonlyArray<keyof T & string>,
  json: boolean | undefined,
): void {
  if (json) {
    for (const row of rows) console.log(JSON.stringify(row));
    return;
  }
  const cell = (value: unknown): string =>
    Array.isArray(value)
      ? value.join(',')
      : typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : JSON.stringify(value ?? '');
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]): string =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(line(columns.map((c) => c)));
  for (const row of rows) console.log(line(columns.map((c) => cell(row[c]))));
}

/** Exit quietly (status 0) when the reader of stdout or stderr has gone: a closed pipe is not a fault. */
export function quietOnClosedPipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

/** A rate or a duration as a person reads it: no more digits than mean something. */
export function rounded(value: number, decimals = 0): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
