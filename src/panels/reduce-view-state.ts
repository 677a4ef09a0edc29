/**
 * Folds the host → webview messages into a view's full state. Pure and editor-free: the host
 * uses it so that a panel opened (or restored) later receives everything so far on `ready`, and
 * the webview bundle uses the same function so that what it persists with `setState` is exactly
 * what the host would send.
 */
import type {
  MemoryViewState,
  StatisticsViewState,
  ToWebview,
  TrainingViewState,
  ViewKind,
  ViewState,
} from '../shared/protocol';
import type { TrainEvent } from '../shared/train-events';

/** The state of a view before anything happened: the webview shows its "what to do" text. */
export function emptyViewState(view: ViewKind): ViewState {
  switch (view) {
    case 'training':
      return { view, state: { status: 'idle', steps: [], evals: [] } };
    case 'statistics':
      return { view, state: { status: 'idle', layers: [], trajectories: [] } };
    case 'memory':
      return { view, state: { status: 'idle', perStep: [], sweep: [] } };
  }
}

/** True when the view has nothing to show yet (idle, no data). */
export function isEmptyViewState(value: ViewState): boolean {
  switch (value.view) {
    case 'training':
      return value.state.status === 'idle' && value.state.steps.length === 0;
    case 'statistics':
      return (
        value.state.status === 'idle' &&
        value.state.layers.length === 0 &&
        value.state.trajectories.length === 0
      );
    case 'memory':
      return (
        value.state.status === 'idle' &&
        value.state.perStep.length === 0 &&
        value.state.sweep.length === 0
      );
  }
}

/**
 * The view's state after `message`. Returns `current` itself (same reference) when the message
 * does not concern this view, so callers can skip posting and re-rendering.
 */
export function reduceViewState(current: ViewState, message: ToWebview): ViewState {
  switch (message.type) {
    case 'state':
      return message.state.view === current.view ? message.state : current;
    case 'trainEvent':
      return foldTrainEvent(current, message.event);
    case 'sweepPoint': {
      if (current.view !== 'memory') return current;
      const { point } = message;
      // A re-measured point replaces the old one rather than drawing a second marker.
      const sweep = current.state.sweep.filter(
        (p) =>
          !(
            p.norm === point.norm &&
            p.batchSize === point.batchSize &&
            p.microBatchSize === point.microBatchSize
          ),
      );
      const status = current.state.status === 'idle' ? 'running' : current.state.status;
      return { view: 'memory', state: { ...current.state, status, sweep: [...sweep, point] } };
    }
    case 'selectLayer':
      if (current.view !== 'statistics' || current.state.selectedLayer === message.layer) {
        return current;
      }
      return { view: 'statistics', state: { ...current.state, selectedLayer: message.layer } };
    case 'requestExport':
      return current;
  }
}

function foldTrainEvent(current: ViewState, event: TrainEvent): ViewState {
  switch (current.view) {
    case 'training': {
      const state = foldTraining(current.state, event);
      return state === current.state ? current : { view: 'training', state };
    }
    case 'statistics': {
      const state = foldStatistics(current.state, event);
      return state === current.state ? current : { view: 'statistics', state };
    }
    case 'memory': {
      const state = foldMemory(current.state, event);
      return state === current.state ? current : { view: 'memory', state };
    }
  }
}

function foldTraining(state: TrainingViewState, event: TrainEvent): TrainingViewState {
  switch (event.type) {
    case 'start':
      // A new run: keep the request the host set, drop the previous run's curves.
      return {
        status: 'running',
        request: state.request,
        backend: event.backend,
        stepPath: event.stepPath,
        stepPathReason: event.stepPathReason,
        stepThreads: event.stepThreads,
        stepThreadsReason: event.stepThreadsReason,
        stepGraph: event.stepGraph,
        stepGraphReason: event.stepGraphReason,
        steps: [],
        evals: [],
      };
    case 'step':
      return { ...state, status: 'running', steps: [...state.steps, event] };
    case 'eval':
      return { ...state, evals: [...state.evals, event] };
    case 'done': {
      const { summary } = event;
      return {
        ...state,
        status: summary.stopped,
        message: summary.message,
        backend: state.backend ?? summary.backend,
        summary,
      };
    }
    default:
      return state;
  }
}

function foldStatistics(state: StatisticsViewState, event: TrainEvent): StatisticsViewState {
  switch (event.type) {
    case 'start':
      return { ...state, trajectories: [] };
    case 'init':
      // The statistics before the first step, drawn at step 0.
      return { ...state, trajectories: [...state.trajectories, { step: 0, layers: event.layers }] };
    case 'stats':
      return {
        ...state,
        trajectories: [...state.trajectories, { step: event.step, layers: event.layers }],
      };
    case 'done': {
      const { steps, layers } = event.summary;
      const last = state.trajectories[state.trajectories.length - 1];
      if (layers.length === 0 || (last && last.step === steps)) return state;
      return { ...state, trajectories: [...state.trajectories, { step: steps, layers }] };
    }
    default:
      return state;
  }
}

function foldMemory(state: MemoryViewState, event: TrainEvent): MemoryViewState {
  switch (event.type) {
    case 'start':
      return { ...state, perStep: [] };
    case 'memory':
      return { ...state, perStep: [...state.perStep, event] };
    default:
      return state;
  }
}
