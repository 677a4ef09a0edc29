import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';

/** The folder, beside the model, that keeps originals replaced by an in-place conversion. */
export const BACKUP_FOLDER = '.batchless-backup';

/** A filesystem-safe timestamp that sorts in time order. */
export function backupStamp(now = new Date()): string {
  return now.toISOString().replace(/[:.]/g, '-');
}

/** Beside a backup folder `<stamp>`: `<stamp>.added.json`, the files the conversion added beside the model. */
const addedListOf = (backup: string) => `${backup}.added.json`;

/**
 * Copies `files` (absolute, all in `dir`) into `<dir>/.batchless-backup/<stamp>/` and notes the
 * names the conversion is about to add beside them (`written`), so a restore can take those away
 * again; returns the backup folder.
 */
export async function backupFiles(dir: string, files: string[], stamp: string, written: string[] = []): Promise<string> {
  const target = nodePath.join(dir, BACKUP_FOLDER, stamp);
  await fs.mkdir(target, { recursive: true });
  for (const file of files) {
    await fs.copyFile(file, nodePath.join(target, nodePath.basename(file)));
  }
  const originals = new Set(files.map((f) => nodePath.basename(f)));
  const added = written.map((f) => nodePath.basename(f)).filter((name) => !originals.has(name));
  // Beside the folder, not in it: the folder holds exactly the original files.
  await fs.writeFile(addedListOf(target), JSON.stringify({ added }, null, 2));
  return target;
}

/** Names the backup says the conversion added; only plain names (a list cannot point elsewhere). */
async function addedByConversion(backup: string): Promise<string[]> {
  const text = await fs.readFile(addedListOf(backup), 'utf8').catch(() => undefined);
  if (text === undefined) return [];
  const added = (JSON.parse(text) as { added?: unknown }).added;
  if (!Array.isArray(added)) return [];
  return added.filter((name): name is string => typeof name === 'string' && name === nodePath.basename(name) && name !== '' && name !== '.' && name !== '..');
}

/** The newest backup folder for a model file's folder, if any. */
export async function latestBackup(modelPath: string): Promise<string | undefined> {
  const root = nodePath.join(nodePath.dirname(modelPath), BACKUP_FOLDER);
  const entries = await fs.readdir(root, { withFileTypes: true }).catch(() => []);
  const stamps = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const newest = stamps[stamps.length - 1];
  return newest ? nodePath.join(root, newest) : undefined;
}

/**
 * Puts the files of the newest backup back beside the model (each replaced atomically via a
 * temporary name) and removes the files the conversion added (its weight shard), so an in-place
 * conversion is undone. Returns the restored paths.
 */
export async function restoreLatestBackup(modelPath: string): Promise<string[]> {
  const backup = await latestBackup(modelPath);
  if (!backup) throw new Error(`No ${BACKUP_FOLDER} folder with a backup beside ${modelPath}`);
  const dir = nodePath.dirname(modelPath);
  const restored: string[] = [];
  const names = await fs.readdir(backup);
  for (const name of names) {
    const destination = nodePath.join(dir, name);
    const temporary = `${destination}.batchless-restore`;
    await fs.copyFile(nodePath.join(backup, name), temporary);
    await fs.rename(temporary, destination);
    restored.push(destination);
  }
  for (const name of await addedByConversion(backup)) {
    if (!names.includes(name)) await fs.rm(nodePath.join(dir, name), { force: true });
  }
  return restored;
}
