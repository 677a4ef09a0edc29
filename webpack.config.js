// One webpack file, three configs: the extension (Node, `vscode` external); the engine library
// and its worker (Node, self-contained: TensorFlow.js, the wasm backend, the TypeScript compiler
// and fflate bundled, their data files copied beside the bundles); the webview (browser, its own
// DOM tsconfig). ts-loader only transpiles: `npm run typecheck` type-checks.
'use strict';

const fs = require('fs');
const path = require('path');

const root = __dirname;
const dist = path.join(root, 'dist');

// Only the native backend stays outside the bundles: tfjs-node is an addon plus ~850 MB of
// libtensorflow, found at run time in node_modules or where "Install Native Backend" put it.
// Its own requires of tfjs are answered with the bundled instance
// (src/engine/backend/load-tfjs-node.ts): a second tfjs-core would keep its backend to itself.
// node-fetch's optional `encoding` is not installed; it is required inside a try.
const ENGINE_EXTERNAL = /^(@tensorflow\/tfjs-node|encoding)(\/.*)?$/;

// Each package's `main` build first: for TensorFlow.js that is the CommonJS Node build, whose
// classes are ES5 functions like those of tfjs-node, which subclasses tfjs-core's KernelBackend
// and tfjs-layers' callbacks (an ES5 subclass of an ES2017 class from the `module` build fails).
const ENGINE_MAIN_FIELDS = ['main', 'module'];

// Parts of the @tensorflow/tfjs union nothing in the engine (or tfjs-node) uses: bundled as empty
// modules, so the bundles carry core, layers and the cpu and wasm backends only. A unit test
// (test/unit/bundle-tfjs.test.ts) checks that every `tf.<name>` the engine uses survives this.
const ENGINE_UNUSED = {
  '@tensorflow/tfjs-backend-webgl': false,
  '@tensorflow/tfjs-converter': false,
  '@tensorflow/tfjs-data': false,
};

const moduleDir = (name) => path.join(root, 'node_modules', name);

// Files the engine reads at run time, copied beside the bundles (src/engine/bundle-assets.ts):
// [folder under dist/, source folder, file names or a filter].
const ENGINE_ASSETS = [
  // tfjs-backend-wasm's binaries (plain, SIMD, threaded SIMD: it picks at run time).
  [
    'wasm',
    path.join(moduleDir('@tensorflow/tfjs-backend-wasm'), 'dist'),
    (f) => f.endsWith('.wasm'),
  ],
  // h5wasm is ESM with its wasm inlined; it is imported at run time (read-hdf5-wasm.ts), so it
  // ships as its ESM build with a package.json marking the folder as ESM.
  ['h5wasm', path.join(moduleDir('h5wasm'), 'dist', 'esm'), ['hdf5_hl.js', 'hdf5_util.js']],
  ['h5wasm', moduleDir('h5wasm'), ['LICENSE.txt']],
  // The 10,000 MNIST digits of the `mnist` package (src/engine/data/mnist.ts).
  ['data/mnist', path.join(moduleDir('mnist'), 'src', 'digits'), (f) => /^\d\.json$/.test(f)],
  ['data/mnist', moduleDir('mnist'), ['package.json', 'LICENSE']],
  // Run by "Batchless: Install Native Backend" to provision the tfjs-node it installs.
  ['.', path.join(root, 'scripts'), ['provision-tfjs-node.js', 'machine-cache.js']],
];
const GENERATED_ASSETS = {
  'h5wasm/package.json': JSON.stringify({ name: 'h5wasm', type: 'module' }) + '\n',
};

/** Emits ENGINE_ASSETS (and GENERATED_ASSETS) into the engine build's output. */
class CopyEngineAssets {
  apply(compiler) {
    const { Compilation, sources } = compiler.webpack;
    compiler.hooks.thisCompilation.tap(CopyEngineAssets.name, (compilation) => {
      compilation.hooks.processAssets.tap(
        { name: CopyEngineAssets.name, stage: Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL },
        () => {
          for (const [target, from, which] of ENGINE_ASSETS) {
            const names = Array.isArray(which) ? which : fs.readdirSync(from).filter(which).sort();
            if (names.length === 0) throw new Error(`CopyEngineAssets: nothing to copy in ${from}`);
            for (const name of names) {
              const file = path.join(from, name);
              compilation.fileDependencies.add(file);
              compilation.emitAsset(
                path.posix.join(target, name),
                new sources.RawSource(fs.readFileSync(file)),
              );
            }
          }
          for (const [name, text] of Object.entries(GENERATED_ASSETS)) {
            compilation.emitAsset(name, new sources.RawSource(text));
          }
        },
      );
    });
  }
}

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
    entry: {
      engine: './src/engine/index.ts',
      worker: './src/worker/main.ts',
      // Started by the native step with worker_threads, found beside the bundles (step-helpers.ts).
      'step-helper-thread': './src/engine/native/step-helper-thread.ts',
    },
    output: { path: dist, filename: '[name].js', library: { type: 'commonjs2' } },
    externals: [
      ({ request }, callback) =>
        request && ENGINE_EXTERNAL.test(request)
          ? callback(null, `commonjs ${request}`)
          : callback(),
    ],
    resolve: { ...common(mode).resolve, mainFields: ENGINE_MAIN_FIELDS, alias: ENGINE_UNUSED },
    // Node's own __dirname: the bundles find their copied assets relative to dist/.
    node: { __dirname: false, __filename: false },
    module: { rules: [tsRule(path.join(root, 'tsconfig.json'))] },
    plugins: [new KeepNodeRequireResolve(), new CopyEngineAssets()],
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
