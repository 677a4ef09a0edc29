// Runs inside the extension host for scripts/e2e-screenshots.js (loaded as `extensionTestsPath`):
// builds the three views' states from the recorded engine session, shows each view in each theme,
// waits for its webview to report `rendered`, and asks the outer script for a screenshot.
'use strict';

const fs = require('fs');
const path = require('path');
const vscode = require('vscode');
const { ViewPanels, emptyViewState, reduceViewState } = require('../out/src/panels');

const THEMES = [
  ['dark', 'Default Dark Modern'],
  ['light', 'Default Light Modern'],
  ['hc', 'Default High Contrast'],
];
const VIEWS = ['training', 'statistics', 'memory'];
const RENDER_TIMEOUT_MS = 30_000;
const SHOT_TIMEOUT_MS = 30_000;

const requests = process.env.BATCHLESS_SCREENSHOT_REQUESTS;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function log(line) {
  fs.appendFileSync(path.join(requests, 'host.log'), `host: ${line}\n`);
}

/** The views' full states, folded from the session's events exactly as ViewPanels folds them. */
function statesFrom(session) {
  const fold = (initial) =>
    session.events.reduce(
      (state, event) => reduceViewState(state, { type: 'trainEvent', event }),
      initial,
    );
  const training = fold({
    view: 'training',
    state: { status: 'idle', request: session.request, steps: [], evals: [] },
  });
  const trajectories = fold(emptyViewState('statistics')).state.trajectories;
  const perStep = fold(emptyViewState('memory')).state.perStep;
  return {
    training,
    statistics: {
      view: 'statistics',
      state: {
        status: 'ready',
        model: session.inspection.model,
        samples: session.inspection.samples,
        layers: session.inspection.layers,
        trajectories,
        selectedLayer: session.inspection.layers[0] && session.inspection.layers[0].layer,
      },
    },
    memory: {
      view: 'memory',
      state: { status: 'ready', model: session.request.model, perStep, sweep: session.sweep },
    },
  };
}

/** The first `rendered` of `view` with charts (or any, for an empty view). */
function rendered(panels, view, withCharts) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      listener.dispose();
      reject(new Error(`${view} did not render within ${RENDER_TIMEOUT_MS} ms`));
    }, RENDER_TIMEOUT_MS);
    const listener = panels.onDidRender((event) => {
      // The page first draws what it had persisted (nothing, for a new panel), then the state.
      if (event.view !== view || (withCharts && event.series.length === 0)) return;
      clearTimeout(timer);
      listener.dispose();
      resolve(event.series);
    });
  });
}

let shotCount = 0;
async function screenshot(name) {
  shotCount += 1;
  const id = String(shotCount).padStart(3, '0');
  fs.writeFileSync(path.join(requests, `shot-${id}.json`), JSON.stringify({ name }));
  const done = path.join(requests, `shot-${id}.done`);
  const deadline = Date.now() + SHOT_TIMEOUT_MS;
  while (!fs.existsSync(done)) {
    if (Date.now() > deadline) throw new Error(`no screenshot of ${name}`);
    await sleep(100);
  }
}

async function showAndShoot(panels, view, name, withCharts = true) {
  const drawn = rendered(panels, view, withCharts);
  panels.show(view);
  const series = await drawn;
  log(`${name}: ${series.join(' | ') || '(no charts)'}`);
  // The tab strip and fonts settle a moment after the charts draw.
  await sleep(700);
  await screenshot(name);
}

exports.run = async function run() {
  const session = JSON.parse(fs.readFileSync(process.env.BATCHLESS_SCREENSHOT_SESSION, 'utf8'));
  const extension = vscode.extensions.getExtension('batchless.batchless');
  const output = vscode.window.createOutputChannel('Batchless screenshots', { log: true });
  const panels = new ViewPanels(extension.extensionUri, output);
  const states = statesFrom(session);
  const workbench = vscode.workspace.getConfiguration('workbench');
  try {
    for (const command of [
      'workbench.action.closeSidebar',
      'workbench.action.closePanel',
      'workbench.action.closeAuxiliaryBar',
    ]) {
      await vscode.commands.executeCommand(command).then(undefined, () => undefined);
    }
    for (const [suffix, theme] of THEMES) {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await workbench.update('colorTheme', theme, vscode.ConfigurationTarget.Global);
      await sleep(1000);
      if (suffix === 'dark' || suffix === 'light') {
        // Before any state: the empty view says what to do.
        await showAndShoot(panels, 'training', `training-empty-${suffix}`, false);
        await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      }
      for (const view of VIEWS) panels.setState(states[view]);
      for (const view of VIEWS) await showAndShoot(panels, view, `${view}-${suffix}`);
      for (const view of VIEWS) panels.setState(emptyViewState(view));
    }
  } catch (err) {
    log(`failed: ${err && err.stack ? err.stack : err}`);
    throw err;
  } finally {
    panels.dispose();
    output.dispose();
  }
};
