import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';

/** The folder, beside the model, that keeps originals replaced by an in-place conversion. */
export const BACKUP_FOLDER = '.batchless-backup';

/** A filesystem-safe timestamp that sorts in time order. */
export function backupStamp(now = new Date()): string {
  return now.toISOString().replace(/[:.]/g, '-');
}

/** Copies `files` (absolute, all in `dir`) into `<dir>/.batchless-backup/<stamp>/`; returns that folder. */
export async function backupFiles(dir: string, files: string[], stamp: string): Promise<string> {
  const target = nodePath.join(dir, BACKUP_FOLDER, stamp);
  await fs.mkdir(target, { recursive: true });
  for (const file of files) {
    await fs.copyFile(file, nodePath.join(target, nodePath.basename(file)));
  }
  return target;
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
 * temporary name), so an in-place conversion can be undone. Returns the restored paths.
 */
export async function restoreLatestBackup(modelPath: string): Promise<string[]> {
  const backup = await latestBackup(modelPath);
  if (!backup) throw new Error(`No ${BACKUP_FOLDER} folder with a backup beside ${modelPath}`);
  const dir = nodePath.dirname(modelPath);
  const restored: string[] = [];
  for (const name of await fs.readdir(backup)) {
    const destination = nodePath.join(dir, name);
    const temporary = `${destination}.batchless-restore`;
    await fs.copyFile(nodePath.join(backup, name), temporary);
    await fs.rename(temporary, destination);
    restored.push(destination);
  }
  return restored;
}
