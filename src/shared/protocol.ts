/**
 * The one protocol between the extension host, the engine worker process and the webviews:
 * plain JSON data, a discriminated union per direction. Inbound messages are validated at each
 * boundary (`isToWorker`, `isFromWebview`); nothing here imports vscode or tfjs.
 */
import type { ConversionSummary, NormalizationSite, SourceRewriteResult } from './conversion';
import type { LayerInspection } from './inspection';
import type {
  StepEvent,
  EvalEvent,
  MemoryEvent,
  LayerStatisticsSnapshot,
  TrainEvent,
  TrainSummary,
} from './train-events';

export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export type NormChoice = 'batchless' | 'batch' | 'none';

/** What the user picked for a training session (persisted per workspace). */
export interface TrainRequest {
  /** 'builtin:mlp' | 'builtin:cnn' | an absolute model file path. */
  model: string;
  /** 'mnist' | 'synthetic' | an absolute .csv path | 'x.npy,y.npy' absolute paths. */
  data: string;
  norm: NormChoice;
  batchSize: number;
  microBatchSize: number;
  epochs: number;
  /** 0: no limit. */
  maxSteps: number;
  learningRate: number;
  seed: number;
  /** Emit a μ/σ snapshot every N steps. */
  statsEvery: number;
  /** Measure a step's peak memory every N steps (0: the first step only). */
  memoryEvery?: number;
}

export interface InspectRequest {
  model: string;
  data: string;
  /** Instances to measure activations on. */
  samples: number;
  channel: number;
}

export interface MemoryRequest {
  model: string;
  data: string;
  batchSizes: number[];
  microBatchSizes: number[];
}

export interface ConvertRequest {
  /** Absolute path of the model file. */
  path: string;
  /** Check parity and report, write nothing. */
  dryRun: boolean;
  /** Replace the file (with a backup) rather than write beside it. */
  inPlace: boolean;
  force?: boolean;
}

export interface ExportKerasRequest {
  /** Absolute path of the model file (any format the engine reads). */
  path: string;
  /** The `.keras` to write; default `<name>.batchless.keras` beside the model. */
  out?: string;
  /** Write even when the BN → batchless parity exceeds the tolerance. */
  force?: boolean;
}

export interface SourceRequest {
  fileName: string;
  text: string;
}

export interface SweepPointData {
  norm: 'batch' | 'batchless';
  batchSize: number;
  microBatchSize: number;
  peakStepBytes: number;
}

export interface BackendInfo {
  name: string;
  fallbacks: { name: string; reason: string }[];
  tfjsVersion: string;
  threads: number;
}

// ---- host → worker ----------------------------------------------------------------------------

export type ToWorker =
  /** Host: start a training session; events stream back with the same id. */
  | { type: 'train'; id: string; request: TrainRequest }
  /** Host: inspect normalization layers against observed activations. */
  | { type: 'inspect'; id: string; request: InspectRequest }
  /** Host: measure peak step memory across batch sizes. */
  | { type: 'memory'; id: string; request: MemoryRequest }
  /** Host: convert a model file (dry run = parity preview only). */
  | { type: 'convert'; id: string; request: ConvertRequest }
  /** Host: write the model as a Keras 3 `.keras` (BN converted to batchless first). */
  | { type: 'exportKeras'; id: string; request: ExportKerasRequest }
  /** Host: compute the edits that turn BN calls in a source file into batchless ones. */
  | { type: 'rewriteSource'; id: string; request: SourceRequest }
  /** Host: locate normalization-layer calls in a source file (CodeLens). */
  | { type: 'findSites'; id: string; request: SourceRequest }
  /** Host: stop the job with this id after its current step. */
  | { type: 'cancel'; id: string }
  /** Host: finish and exit. */
  | { type: 'shutdown' };

// ---- worker → host ----------------------------------------------------------------------------

export type FromWorker =
  /** Worker: the engine is loaded on this backend and accepts jobs. */
  | { type: 'ready'; backend: BackendInfo }
  /** Worker: a training event of job `id`. */
  | { type: 'trainEvent'; id: string; event: TrainEvent }
  /** Worker: one measured point of a memory sweep. */
  | { type: 'sweepPoint'; id: string; point: SweepPointData }
  /** Worker: job `id` finished with this result. */
  | { type: 'result'; id: string; result: JobResult }
  /** Worker: job `id` failed; the message is for people. */
  | { type: 'failed'; id: string; message: string };

export type JobResult =
  | { kind: 'train'; summary: TrainSummary }
  | { kind: 'inspect'; layers: LayerInspection[]; samples: number }
  | { kind: 'memory'; points: SweepPointData[] }
  | { kind: 'convert'; summary: ConversionSummary; refused: boolean }
  | { kind: 'exportKeras'; summary: ConversionSummary; refused: boolean }
  | { kind: 'rewrite'; result: SourceRewriteResult }
  | { kind: 'sites'; sites: NormalizationSite[] };

// ---- host → webview ---------------------------------------------------------------------------

export interface TrainingViewState {
  status: 'idle' | 'running' | 'completed' | 'cancelled' | 'diverged' | 'failed';
  message?: string;
  request?: TrainRequest;
  backend?: string;
  /** Which training step ran ('native' or 'generic', from the start event) and why not native. */
  stepPath?: 'native' | 'generic';
  stepPathReason?: string;
  /** Threads computing each step, and why that many (from the start event). */
  stepThreads?: number;
  stepThreadsReason?: string;
  /** Whether each step ran as one compiled TensorFlow graph, and why (from the start event). */
  stepGraph?: boolean;
  stepGraphReason?: string;
  steps: StepEvent[];
  evals: EvalEvent[];
  summary?: TrainSummary;
}

export interface StatisticsViewState {
  status: 'idle' | 'running' | 'ready' | 'failed';
  message?: string;
  model?: string;
  samples?: number;
  layers: LayerInspection[];
  /** μ/σ over training steps, per layer, from the last session's snapshots. */
  trajectories: { step: number; layers: LayerStatisticsSnapshot[] }[];
  selectedLayer?: string;
}

export interface MemoryViewState {
  status: 'idle' | 'running' | 'ready' | 'failed';
  message?: string;
  model?: string;
  perStep: MemoryEvent[];
  sweep: SweepPointData[];
}

export type ViewKind = 'training' | 'statistics' | 'memory';

export type ViewState =
  | { view: 'training'; state: TrainingViewState }
  | { view: 'statistics'; state: StatisticsViewState }
  | { view: 'memory'; state: MemoryViewState };

export type ToWebview =
  /** Host: the whole state (after `ready`, or when a new run starts). */
  | { type: 'state'; state: ViewState }
  /** Host: a training event to append (training and statistics views). */
  | { type: 'trainEvent'; event: TrainEvent }
  /** Host: one more sweep point (memory view). */
  | { type: 'sweepPoint'; point: SweepPointData }
  /** Host: select this layer (the tree view's selection). */
  | { type: 'selectLayer'; layer: string }
  /** Host: render the charts as PNG and send them back (Export Report). */
  | { type: 'requestExport' };

// ---- webview → host ---------------------------------------------------------------------------

export type FromWebview =
  /** Webview: loaded; send the full state. */
  | { type: 'ready' }
  /** Webview: charts drawn, with their series labels (tests and screenshots wait for this). */
  | { type: 'rendered'; view: ViewKind; series: string[] }
  /** Webview: the user picked a layer. */
  | { type: 'selectLayer'; layer: string }
  /** Webview: the user asked for a command (e.g. run a sweep, start training). */
  | { type: 'command'; command: 'train' | 'inspect' | 'memory' | 'export' }
  /** Webview: exported charts as PNG data URLs, by chart id. */
  | { type: 'exported'; images: { id: string; dataUrl: string }[] };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';

/** Validates a message from a webview (untrusted: it runs web content). */
export function isFromWebview(message: unknown): message is FromWebview {
  if (!isObject(message) || !isString(message.type)) return false;
  switch (message.type) {
    case 'ready':
      return true;
    case 'rendered':
      return (
        ['training', 'statistics', 'memory'].includes(message.view as string) &&
        Array.isArray(message.series) &&
        message.series.every(isString)
      );
    case 'selectLayer':
      return isString(message.layer) && message.layer.length < 500;
    case 'command':
      return ['train', 'inspect', 'memory', 'export'].includes(message.command as string);
    case 'exported':
      return (
        Array.isArray(message.images) &&
        message.images.length <= 20 &&
        message.images.every(
          (i) =>
            isObject(i) &&
            isString(i.id) &&
            /^[\w-]{1,64}$/.test(i.id) &&
            isString(i.dataUrl) &&
            i.dataUrl.startsWith('data:image/png;base64,') &&
            i.dataUrl.length < 20_000_000,
        )
      );
    default:
      return false;
  }
}

/** Validates a message to the worker (it arrives over IPC from the host). */
export function isToWorker(message: unknown): message is ToWorker {
  if (!isObject(message) || !isString(message.type)) return false;
  if (message.type === 'shutdown') return true;
  if (!isString(message.id)) return false;
  if (message.type === 'cancel') return true;
  return (
    ['train', 'inspect', 'memory', 'convert', 'exportKeras', 'rewriteSource', 'findSites'].includes(
      message.type,
    ) && isObject(message.request)
  );
}
