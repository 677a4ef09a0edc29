import { spawn, SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as vscode from 'vscode';

export interface ChildOutcome {
  /** Exit code, or undefined when it was killed or could not start. */
  code?: number;
  cancelled: boolean;
  /** Could not start (ENOENT and the like). */
  error?: string;
  /** The last lines of its output, for messages. */
  tail: string[];
}

/**
 * Runs a long command (npm, node-gyp) in its own process group, streaming its output lines; a
 * cancellation ends the whole group. Never rejects.
 */
export function runChild(
  command: string,
  args: string[],
  options: SpawnOptions,
  token: vscode.CancellationToken,
  onLine: (line: string) => void,
): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const tail: string[] = [];
    let cancelled = false;
    const child = spawn(command, args, {
      ...options,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
    });
    const take = (chunk: Buffer) => {
      for (const line of chunk.toString().split(/\r?\n/)) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 40) tail.shift();
        onLine(line);
      }
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    const kill = (signal: NodeJS.Signals) => {
      try {
        if (process.platform !== 'win32' && child.pid !== undefined)
          process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // already gone
      }
    };
    const onCancel = token.onCancellationRequested(() => {
      cancelled = true;
      kill('SIGTERM');
      setTimeout(() => kill('SIGKILL'), 3000).unref();
    });
    child.on('error', (err) => {
      onCancel.dispose();
      resolve({ cancelled, error: err.message, tail });
    });
    child.on('close', (code) => {
      onCancel.dispose();
      resolve({ code: code ?? undefined, cancelled, tail });
    });
  });
}

/** The first `name` on PATH that is a file (with PATHEXT on Windows), or undefined. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter(Boolean);
  const extensions = process.platform === 'win32' ? (env.PATHEXT ?? '.CMD;.EXE').split(';') : [''];
  for (const dir of dirs) {
    for (const ext of extensions) {
      const candidate = path.join(dir, name + ext.toLowerCase());
      try {
        if (fs.statSync(candidate).isFile()) return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}
