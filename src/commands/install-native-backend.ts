import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { installedTfjsNode } from '../session/native-backend';
import { nativeBackendPrefix, tfjsNodeDirIn } from '../shared/native-backend';
import type { CommandFactory, Ctx } from './context';
import { findOnPath, runChild } from './run-child';

/** What the command resolves to (tests and callers read it; people read the notification). */
export interface InstallNativeResult {
  ok: boolean;
  /** The step that failed, or 'done'. */
  step: 'npm' | 'busy' | 'install' | 'provision' | 'restart' | 'cancelled' | 'done';
  message: string;
  /** The backend the restarted engine runs on. */
  backend?: string;
  elapsedMs: number;
}

// The manifest of the npm prefix in global storage: tfjs-node's install script stays off
// (it downloads from Google storage and npm rolls everything back when that fails);
// provision-tfjs-node.js then tries that download itself, else the local tensorflow-cpu wheel.
const PREFIX_MANIFEST = {
  name: 'batchless-native-backend',
  private: true,
  description:
    'TensorFlow.js native backend for the Batchless extension (Batchless: Install Native Backend)',
  allowScripts: { '@tensorflow/tfjs-node': false },
};

/**
 * Install Native Backend: installs @tensorflow/tfjs-node (the version the engine was built with)
 * into the extension's global storage with npm, provisions libtensorflow for it, and restarts the
 * engine worker on it. Cancellable; never throws: a failure says which step failed and why.
 */
export const installNativeBackend: CommandFactory = (ctx) => {
  let running: Promise<InstallNativeResult> | undefined;
  return async () => {
    running ??= install(ctx).finally(() => (running = undefined));
    const result = await running;
    ctx.log.info(`install native backend: ${JSON.stringify(result)}`);
    if (result.ok) void vscode.window.showInformationMessage(`Batchless: ${result.message}`);
    else if (result.step === 'cancelled')
      void vscode.window.showInformationMessage(`Batchless: ${result.message}`);
    else {
      void vscode.window
        .showErrorMessage(`Batchless: ${result.message}`, 'Show Log')
        .then((choice) => {
          if (choice === 'Show Log') ctx.log.show();
        });
    }
    return result;
  };
};

async function install(ctx: Ctx): Promise<InstallNativeResult> {
  const started = Date.now();
  const result = (
    ok: boolean,
    step: InstallNativeResult['step'],
    message: string,
    backend?: string,
  ): InstallNativeResult => ({ ok, step, message, backend, elapsedMs: Date.now() - started });
  try {
    const npm = findOnPath('npm');
    if (!npm)
      return result(
        false,
        'npm',
        'npm was not found on PATH, so the native backend cannot be installed. Install Node.js with npm, make sure `npm --version` works in a terminal, then run “Batchless: Install Native Backend” again. The engine keeps running on wasm meanwhile.',
      );
    if (ctx.engine.busy)
      return result(
        false,
        'busy',
        'a job is running in the engine; install the native backend when it has finished (installing restarts the engine).',
      );
    const version = wantedTfjsNodeVersion(ctx.extension.extension);
    const prefix = nativeBackendPrefix(ctx.extension.globalStorageUri.fsPath);
    return await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: 'Batchless: installing the native backend',
        cancellable: true,
      },
      async (progress, token) => {
        const say = (message: string) => progress.report({ message });
        const log = (line: string) => ctx.log.info(`[native backend] ${line}`);
        const env = npmEnvironment();

        const installed = installedTfjsNode(ctx.extension.globalStorageUri.fsPath);
        if (installed?.version !== version) {
          fs.mkdirSync(prefix, { recursive: true });
          fs.writeFileSync(
            path.join(prefix, 'package.json'),
            JSON.stringify(PREFIX_MANIFEST, null, 2) + '\n',
          );
          say(`npm install @tensorflow/tfjs-node@${version} (about a minute)…`);
          log(`${npm} install @tensorflow/tfjs-node@${version} in ${prefix}`);
          const npmRun = await runChild(
            npm,
            [
              'install',
              `@tensorflow/tfjs-node@${version}`,
              '--no-save',
              '--no-audit',
              '--no-fund',
              '--loglevel=error',
            ],
            { cwd: prefix, env, shell: process.platform === 'win32' },
            token,
            log,
          );
          if (npmRun.cancelled)
            return result(
              false,
              'cancelled',
              'installing the native backend was cancelled; the engine stays on its current backend.',
            );
          if (
            npmRun.code !== 0 ||
            !fs.existsSync(path.join(tfjsNodeDirIn(prefix), 'package.json'))
          ) {
            return result(
              false,
              'install',
              `npm could not install @tensorflow/tfjs-node@${version} (${npmRun.error ?? `exit ${npmRun.code}`}): ${lastUseful(npmRun.tail)}`,
            );
          }
        } else {
          log(`tfjs-node ${version} is already installed in ${prefix}`);
        }

        say('provisioning libtensorflow (download, else the local tensorflow-cpu wheel)…');
        const script = provisionScript(ctx.extension.extensionPath);
        const provision = await runChild(
          process.execPath,
          [script, '--tfjs-node', tfjsNodeDirIn(prefix)],
          { cwd: prefix, env: { ...env, ELECTRON_RUN_AS_NODE: '1' } },
          token,
          (line) => {
            log(line);
            if (line.startsWith('batchless: ')) say(line.slice('batchless: '.length));
          },
        );
        if (provision.cancelled)
          return result(
            false,
            'cancelled',
            'provisioning libtensorflow was cancelled; run the command again to finish it. The engine stays on its current backend.',
          );
        if (provision.code !== 0) {
          return result(
            false,
            'provision',
            `tfjs-node was installed but libtensorflow could not be provisioned (${provision.error ?? `exit ${provision.code}`}): ${lastUseful(provision.tail)}. The engine keeps running on wasm.`,
          );
        }

        if (ctx.engine.busy)
          return result(
            false,
            'restart',
            'the native backend is installed, but a job started meanwhile: run this command again when it has finished to restart the engine on it.',
          );
        say('restarting the engine…');
        const backend = await ctx.engine.restart();
        if (backend.name !== 'tensorflow') {
          const why =
            backend.fallbacks.find((f) => f.name === 'tensorflow')?.reason ??
            'the engine chose another backend (check the batchless.engine.backend setting)';
          return result(
            false,
            'restart',
            `the native backend is installed, but the engine did not load it: ${why}. It runs on ${backend.name}.`,
            backend.name,
          );
        }
        return result(
          true,
          'done',
          `the engine now runs on native TensorFlow (tfjs-node ${version}; took ${Math.round((Date.now() - started) / 1000)} s).`,
          backend.name,
        );
      },
    );
  } catch (err) {
    return result(
      false,
      'install',
      `installing the native backend failed: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** The tfjs-node release the engine bundle was built against (its tfjs must match). */
function wantedTfjsNodeVersion(extension: vscode.Extension<unknown>): string {
  const deps =
    (extension.packageJSON as { dependencies?: Record<string, string> }).dependencies ?? {};
  return (deps['@tensorflow/tfjs-node'] ?? '4.22.0').replace(/^[\^~=]/, '');
}

/** The copy webpack puts in dist/, else the script in a development checkout. */
function provisionScript(extensionPath: string): string {
  const shipped = path.join(extensionPath, 'dist', 'provision-tfjs-node.js');
  return fs.existsSync(shipped)
    ? shipped
    : path.join(extensionPath, 'scripts', 'provision-tfjs-node.js');
}

// The extension host may itself descend from an npm run (tests): its npm_* variables would point
// the install at another project.
function npmEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    const lower = key.toLowerCase();
    if (
      lower.startsWith('npm_package_') ||
      lower.startsWith('npm_lifecycle_') ||
      [
        'npm_config_prefix',
        'npm_config_local_prefix',
        'npm_config_global',
        'npm_execpath',
        'npm_command',
        'init_cwd',
      ].includes(lower)
    )
      delete env[key];
  }
  return env;
}

function lastUseful(tail: string[]): string {
  const lines = tail.map((l) => l.replace(/^batchless: /, '').trim()).filter(Boolean);
  return (
    lines.find((l) => /could not|error|failed/i.test(l)) ?? lines[lines.length - 1] ?? 'no output'
  );
}
