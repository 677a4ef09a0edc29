import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type * as vscode from 'vscode';
import { findOnPath, runChild } from '../../src/commands/run-child';
import { installedTfjsNode, nativeBackendEnv } from '../../src/session/native-backend';
import {
  nativeBackendPrefix,
  TFJS_NODE_DIR_ENV,
  tfjsNodeDirIn,
} from '../../src/shared/native-backend';

// The parts of "Install Native Backend" that do not need the editor: finding npm, running a
// long child with cancellation, and pointing the engine at what was installed.

function token(): { token: vscode.CancellationToken; cancel: () => void } {
  const listeners: (() => void)[] = [];
  let cancelled = false;
  return {
    token: {
      get isCancellationRequested() {
        return cancelled;
      },
      onCancellationRequested: (listener: () => void) => {
        listeners.push(listener);
        return { dispose: () => listeners.splice(listeners.indexOf(listener), 1) };
      },
    } as unknown as vscode.CancellationToken,
    cancel: () => {
      cancelled = true;
      for (const listener of [...listeners]) listener();
    },
  };
}

test('findOnPath finds an executable file on PATH and says undefined when there is none', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'batchless-path-'));
  try {
    fs.writeFileSync(path.join(dir, 'npm'), '#!/bin/sh\n', { mode: 0o755 });
    fs.mkdirSync(path.join(dir, 'not-a-file'));
    assert.equal(
      findOnPath('npm', { PATH: `/nonexistent${path.delimiter}${dir}` }),
      path.join(dir, 'npm'),
    );
    assert.equal(findOnPath('not-a-file', { PATH: dir }), undefined);
    assert.equal(findOnPath('npm', { PATH: '' }), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('runChild streams lines and reports the exit code', async () => {
  const lines: string[] = [];
  const outcome = await runChild(
    process.execPath,
    ['-e', "console.log('one\\ntwo'); console.error('three'); process.exit(3)"],
    {},
    token().token,
    (line) => lines.push(line),
  );
  assert.equal(outcome.code, 3);
  assert.equal(outcome.cancelled, false);
  assert.deepEqual([...lines].sort(), ['one', 'three', 'two']);
});

test('runChild ends the whole process group when cancelled', async () => {
  const { token: t, cancel } = token();
  const started = Date.now();
  // A parent that starts a long-lived grandchild, as npm starts node-gyp.
  const script =
    "require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'inherit' }); console.log('started'); setTimeout(() => {}, 60000);";
  const outcome = await runChild(process.execPath, ['-e', script], {}, t, (line) => {
    if (line === 'started') cancel();
  });
  assert.equal(outcome.cancelled, true);
  assert.ok(Date.now() - started < 20_000, 'the cancelled group did not end');
});

test('runChild reports a command that cannot start instead of throwing', async () => {
  const outcome = await runChild(
    '/nonexistent/npm',
    ['install'],
    {},
    token().token,
    () => undefined,
  );
  assert.equal(outcome.code, undefined);
  assert.match(outcome.error ?? '', /ENOENT/);
});

test('the engine is pointed at tfjs-node only once it is installed in global storage', () => {
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'batchless-storage-'));
  try {
    assert.equal(installedTfjsNode(storage), undefined);
    assert.deepEqual(nativeBackendEnv(storage), {});
    const dir = tfjsNodeDirIn(nativeBackendPrefix(storage));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: '@tensorflow/tfjs-node', version: '4.22.0' }),
    );
    assert.deepEqual(installedTfjsNode(storage), { dir, version: '4.22.0' });
    assert.deepEqual(nativeBackendEnv(storage), { [TFJS_NODE_DIR_ENV]: dir });
  } finally {
    fs.rmSync(storage, { recursive: true, force: true });
  }
});
