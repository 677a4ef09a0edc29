/**
 * The one webview bundle. The page's <body data-view> (written by src/panels/html.ts) picks the
 * view. Handshake: show what the page persisted (if anything), post `ready`, receive the full
 * state, then fold increments into it with the same reducer the host uses, persisting the result
 * so a reloaded page can draw at once.
 */
import { isPersistedWebviewState } from '../src/panels/persisted-state';
import { emptyViewState, reduceViewState } from '../src/panels/reduce-view-state';
import { isViewKind } from '../src/panels/views';
import type {
  MemoryViewState,
  StatisticsViewState,
  ToWebview,
  TrainingViewState,
  ViewKind,
  ViewState,
} from '../src/shared/protocol';
import { applyPalette, drawnSeries, whenDrawn } from './charts';
import { errorState } from './dom';
import { persist, persistedState, postToHost } from './host';
import { observeTheme, readPalette } from './theme';
import { createMemoryView } from './views/memory';
import { createStatisticsView } from './views/statistics';
import { createTrainingView } from './views/training';
import type { View, ViewContext } from './views/view';

interface StateByView {
  training: TrainingViewState;
  statistics: StatisticsViewState;
  memory: MemoryViewState;
}

/** Persisting on every streamed step would serialize the whole run each time. */
const PERSIST_DELAY_MS = 500;

function start(view: ViewKind, root: HTMLElement): void {
  const restored = persistedState();
  let state: ViewState = isPersistedWebviewState(restored, view)
    ? restored.state
    : emptyViewState(view);
  let palette = readPalette();
  applyPalette(palette);
  let persistTimer: ReturnType<typeof setTimeout> | undefined;
  let lastSeries: string | undefined;
  let forceAnnounce = false;

  const ctx: ViewContext = {
    root,
    palette: () => palette,
    post: postToHost,
    dispatch: (message) => handle(message),
    updated: () => announce(false),
  };
  const controller = createView(view, ctx);

  function persistNow(): void {
    if (persistTimer !== undefined) clearTimeout(persistTimer);
    persistTimer = undefined;
    persist({ version: 1, state });
  }

  function persistSoon(): void {
    persistTimer ??= setTimeout(persistNow, PERSIST_DELAY_MS);
  }

  /** Tells the host which series are on screen once they are drawn (always after a render). */
  function announce(force: boolean): void {
    forceAnnounce ||= force;
    const charts = controller.charts().map((c) => c.chart);
    whenDrawn(charts, () => {
      const series = [...new Set(charts.flatMap(drawnSeries))];
      const key = JSON.stringify(series);
      if (!forceAnnounce && key === lastSeries) return;
      forceAnnounce = false;
      lastSeries = key;
      postToHost({ type: 'rendered', view, series });
    });
  }

  function renderAll(): void {
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.id : '';
    try {
      controller.destroy();
      controller.render(state);
    } catch (err) {
      console.error(err);
      controller.destroy();
      root.replaceChildren(
        errorState(
          'This view could not draw its data.',
          err instanceof Error ? err.message : String(err),
        ),
      );
    }
    if (focused) document.getElementById(focused)?.focus();
    announce(true);
  }

  function handle(message: ToWebview): void {
    if (message.type === 'requestExport') {
      exportCharts();
      return;
    }
    const next = reduceViewState(state, message);
    if (next === state && message.type !== 'state') return;
    if (message.type === 'state' && message.state.view !== view) return;
    state = next;
    if (message.type === 'state') {
      persistNow();
      renderAll();
      return;
    }
    persistSoon();
    let applied = false;
    try {
      applied = controller.apply(message, state);
    } catch (err) {
      console.error(err);
    }
    if (!applied) renderAll();
  }

  function exportCharts(): void {
    const images = controller
      .charts()
      .map(({ id, chart }) => ({ id, dataUrl: chart.toBase64Image('image/png', 1) }))
      // A chart with no size yields "data:,": nothing worth sending.
      .filter((image) => image.dataUrl.startsWith('data:image/png;base64,'));
    postToHost({ type: 'exported', images });
  }

  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const data = event.data;
    if (
      typeof data !== 'object' ||
      data === null ||
      typeof (data as { type?: unknown }).type !== 'string'
    ) {
      return;
    }
    handle(data as ToWebview);
  });
  window.addEventListener('pagehide', () => {
    if (persistTimer !== undefined) persistNow();
  });
  observeTheme((next) => {
    palette = next;
    applyPalette(palette);
    renderAll();
  });

  renderAll();
  postToHost({ type: 'ready' });
}

function createView(view: ViewKind, ctx: ViewContext): View<ViewState> {
  switch (view) {
    case 'training':
      return narrow('training', createTrainingView(ctx));
    case 'statistics':
      return narrow('statistics', createStatisticsView(ctx));
    case 'memory':
      return narrow('memory', createMemoryView(ctx));
  }
}

/** Adapts a view of one state type to the page's ViewState union. */
function narrow<K extends ViewKind>(kind: K, inner: View<StateByView[K]>): View<ViewState> {
  const stateOf = (value: ViewState): StateByView[K] | undefined =>
    value.view === kind ? (value.state as StateByView[K]) : undefined;
  return {
    render(value) {
      const s = stateOf(value);
      if (s) inner.render(s);
    },
    apply(message, value) {
      const s = stateOf(value);
      return s ? inner.apply(message, s) : true;
    },
    charts: () => inner.charts(),
    destroy: () => inner.destroy(),
  };
}

const root = document.getElementById('root');
const view = document.body.dataset.view;
if (root && isViewKind(view)) {
  start(view, root);
} else if (root) {
  root.replaceChildren(errorState('Unknown Batchless view.', `data-view="${String(view)}"`));
}
