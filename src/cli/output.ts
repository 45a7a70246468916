// How client commands print: aligned tables for people, JSON or YAML documents for programs,
// and the small formats tables use (ages, byte sizes, a progress bar).

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/**
 * Columns padded to the widest cell, two spaces apart, no trailing spaces. A row shorter than
 * the header ends with a cell that spans the remaining columns (an error message): that cell
 * does not widen its column.
 */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h) => h.length);
  for (const row of rows) {
    const sized = row.length < header.length ? row.slice(0, -1) : row;
    sized.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** Turns a value into YAML text. */
type YamlStringify = (value: unknown) => string;

/** The YAML writer, loaded only by the commands that print YAML (it adds to every start-up). */
async function loadYaml(): Promise<YamlStringify> {
  const { stringify } = await import('yaml');
  return (value) => stringify(value);
}

/** Writes the answer to stdout: `table()` in table format, else pretty JSON (2-space indent) or YAML. */
export async function printAnswer(format: OutputFormat, answer: unknown, table: () => string): Promise<void> {
  if (format === 'table') process.stdout.write(table());
  else if (format === 'json') process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  else process.stdout.write((await loadYaml())(answer));
}

/**
 * How the events of a stream print: `line()` in table format, one JSON object per line in json,
 * one YAML document (`---` first) per event in yaml.
 */
export async function eventRenderer(
  format: OutputFormat,
): Promise<(event: unknown, line: () => string) => string> {
  if (format === 'json') return (event) => `${JSON.stringify(event)}\n`;
  if (format === 'yaml') {
    const toYaml = await loadYaml();
    return (event) => `---\n${toYaml(event)}`;
  }
  return (_event, line) => `${line()}\n`;
}

/** 45s, 10m, 3h, 2d: the largest whole unit, rounded down. */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3_600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3_600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** 512 B, 1.2 KiB, 2.7 MiB, 1.0 GiB. */
export function formatBytes(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit] ?? ''}`;
}

/** `[#########           ] 45% 1.2 MiB / 2.7 MiB` */
export function progressBar(received: number, total: number, width = 20): string {
  // The total is unknown (0) while a streamed download runs.
  if (total <= 0) return `${formatBytes(received)} received`;
  const ratio = total > 0 ? Math.min(1, received / total) : 0;
  const filled = Math.floor(ratio * width);
  const bar = `${'#'.repeat(filled)}${' '.repeat(width - filled)}`;
  return `[${bar}] ${Math.floor(ratio * 100)}% ${formatBytes(received)} / ${formatBytes(total)}`;
}

/** A value on one line: as is, or JSON-quoted when it holds line breaks or other control characters. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(text) ? JSON.stringify(text) : text;
}

/** `leader` → `Leader`, `preCandidate` → `PreCandidate`. */
export function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** Progress bar redraws, at most one per this many ms. */
const REDRAW_MS = 100;

/** A progress bar redrawn in place on stderr (a terminal). */
export class ProgressLine {
  private last = 0;

  draw(received: number, total: number): void {
    const now = Date.now();
    if (now - this.last < REDRAW_MS && received < total) return;
    this.last = now;
    process.stderr.write(`\r${progressBar(received, total)}\x1b[K`);
  }

  clear(): void {
    if (this.last !== 0) process.stderr.write('\r\x1b[K');
  }
}
