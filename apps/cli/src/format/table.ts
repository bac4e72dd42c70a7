/**
 * Tables laid out as Ollama's (tablewriter with no borders and four spaces of padding): every
 * cell is padded to its column's width and followed by four spaces; in the header row, the last
 * cell is followed by one space. Ollama's scripts-and-eyes format, trailing spaces included.
 */
export function renderTable(rows: readonly (readonly string[])[], header?: readonly string[]): string {
  const all = header ? [header, ...rows] : rows;
  const columns = Math.max(0, ...all.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(0, ...all.map((row) => displayWidth(row[i] ?? ""))));
  const line = (row: readonly string[], lastPad: string) =>
    widths.map((width, i) => pad(row[i] ?? "", width) + (i === columns - 1 ? lastPad : "    ")).join("");
  const lines = rows.map((row) => line(row, "    "));
  if (header) lines.unshift(line(header, " "));
  return lines.map((l) => `${l}\n`).join("");
}

function pad(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - displayWidth(text)));
}

/** Code points, not UTF-16 units (model names and values are almost always ASCII). */
function displayWidth(text: string): number {
  return [...text].length;
}
