/** Where in a model file a problem was found. */
export interface ModelWhere {
  /** The file as the caller named it (for an archive: `model.keras!config.json`). */
  file: string;
  /** The layer concerned, by its name in the file. */
  layer?: string;
  /** The config key, attribute, manifest entry or weight concerned. */
  field?: string;
}

/**
 * The one error model readers throw for input they will not load, so callers (the CLI, the
 * worker, the fuzz test) can tell "this file is wrong or unsupported" from a bug in a reader.
 * The message always names the file, and the layer and field when there is one.
 */
export class ModelFormatError extends Error {
  readonly file: string;
  readonly layer?: string;
  readonly field?: string;
  readonly detail: string;

  constructor(where: ModelWhere, detail: string, options?: { cause?: unknown }) {
    super(formatModelError(where, detail), options);
    this.name = 'ModelFormatError';
    this.file = where.file;
    this.layer = where.layer;
    this.field = where.field;
    this.detail = detail;
  }
}

function formatModelError(where: ModelWhere, detail: string): string {
  const parts = [where.file];
  if (where.layer !== undefined) parts.push(`layer '${where.layer}'`);
  if (where.field !== undefined) parts.push(`'${where.field}'`);
  return `${parts.join(', ')}: ${detail}`;
}

/** Throws a ModelFormatError; an expression form for `x ?? fail(...)`. */
export function fail(where: ModelWhere, detail: string, cause?: unknown): never {
  throw new ModelFormatError(where, detail, cause === undefined ? undefined : { cause });
}

/** Short, bounded rendering of a value from a file for use in a message. */
export function quote(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Runs `body`, turning anything it throws that is not already a ModelFormatError into one. */
export async function withModelErrors<T>(
  where: ModelWhere,
  what: string,
  body: () => Promise<T> | T,
): Promise<T> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    return fail(where, `${what}: ${reason}`, e);
  }
}

/** The plain-object check every reader needs before looking inside parsed JSON. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
