import { promises as fs } from 'node:fs';
import { fail, ModelWhere } from './model-errors';

/** Largest model file read at all; far above any model this tool is meant for. */
export const MAX_MODEL_FILE_BYTES = 2 ** 30;
/** Largest JSON topology read (a big ResNet's config is well under 1 MiB). */
export const MAX_JSON_BYTES = 64 * 2 ** 20;

/** Reads a whole file after checking it exists, is a file, and is at most `maxBytes`. */
export async function readFileBounded(
  path: string,
  maxBytes: number,
  where: ModelWhere = { file: path },
): Promise<Uint8Array> {
  let size: number;
  try {
    const stat = await fs.stat(path);
    if (!stat.isFile()) fail(where, 'not a file');
    size = stat.size;
  } catch (e) {
    if (e instanceof Error && 'code' in e && e.code === 'ENOENT') fail(where, 'no such file', e);
    throw e;
  }
  if (size > maxBytes) fail(where, `${size} bytes, more than the ${maxBytes} this reader accepts`);
  const bytes = await fs.readFile(path);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Parses JSON text, naming the file (and where the syntax broke) when it is not JSON. */
export function parseJson(bytes: Uint8Array, where: ModelWhere): unknown {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail(where, `not valid JSON (${e instanceof Error ? e.message : String(e)})`, e);
  }
}

export async function readJsonFile(
  path: string,
  where: ModelWhere = { file: path },
): Promise<unknown> {
  return parseJson(await readFileBounded(path, MAX_JSON_BYTES, where), where);
}

export async function fileExists(path: string): Promise<boolean> {
  try {
    return (await fs.stat(path)).isFile();
  } catch {
    return false;
  }
}
