/**
 * Plain-text tables like kubectl prints them: UPPERCASE headers, columns padded to the widest
 * cell and separated by three spaces, no borders, no trailing blanks.
 */
export interface Column<Row> {
  readonly header: string
  readonly cell: (row: Row) => string
}

const GAP = "   "

/** Column widths for a header plus rows, so a streamed row can later be aligned to them. */
export const columnWidths = (cells: ReadonlyArray<ReadonlyArray<string>>): ReadonlyArray<number> => {
  const widths: Array<number> = []
  for (const row of cells) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)))
  return widths
}

/** One line: every cell but the last padded to its width (a longer cell just pushes the rest). */
export const formatLine = (cells: ReadonlyArray<string>, widths: ReadonlyArray<number>): string =>
  cells
    .map((cell, index) => (index === cells.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
    .join(GAP)
    .trimEnd()

export const tableCells = <Row>(columns: ReadonlyArray<Column<Row>>, rows: ReadonlyArray<Row>): ReadonlyArray<ReadonlyArray<string>> => [
  columns.map((column) => column.header),
  ...rows.map((row) => columns.map((column) => oneLine(column.cell(row))))
]

/** The whole table, one line per row, ending with a newline. */
export const renderTable = <Row>(columns: ReadonlyArray<Column<Row>>, rows: ReadonlyArray<Row>): string => {
  const cells = tableCells(columns, rows)
  const widths = columnWidths(cells)
  return cells.map((line) => formatLine(line, widths)).join("\n") + "\n"
}

/** Cells never break a row: newlines and tabs become spaces. */
export const oneLine = (text: string): string => text.replace(/\s*[\r\n\t]+\s*/g, " ")
