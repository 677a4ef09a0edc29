import * as tf from '@tensorflow/tfjs';

/** What a step was doing when a buffer was created; the breakdown classifies by it. */
export type StepPhase = 'input' | 'forward' | 'backward' | 'accumulate' | 'update';

/** One data buffer created while the tracker ran. */
export interface TrackedBuffer {
  bytes: number;
  phase: StepPhase;
  /** Set once the buffer is known to hold a gradient or an accumulator. */
  gradient: boolean;
  /** Set when a variable adopted the buffer as its value (a new weight or optimizer moment). */
  variableName?: string;
  /** A reshape view sharing another buffer's memory (0 bytes while that buffer lives). */
  viewOf?: object;
}

/** The state of memory at the highest point the tracker saw. */
export interface PeakSnapshot {
  /** Unique buffers alive: resident ones plus those created since `start`. */
  bytes: number;
  /** Bytes of buffers that were alive before `start` and still were at the peak. */
  residentBytes: number;
  /** Bytes of resident buffers freed before the peak, by the variable that owned them (if any). */
  residentFreed: Map<string | undefined, number>;
  /**
   * Buffers created since `start` and alive at the peak, with their size then (a view may inherit
   * its source's bytes later). The same objects as the tracker's, so later tags apply.
   */
  created: { buffer: TrackedBuffer; bytes: number }[];
  /** The phase the step was in when the peak was reached. */
  phase: StepPhase;
}

interface EngineInternals {
  trackTensor(a: tf.Tensor, backend: unknown): void;
  disposeTensor(a: tf.Tensor): void;
  state: { numBytes: number; tensorInfo: WeakMap<object, unknown> };
}

/**
 * Follows every tfjs data buffer while a step runs, by wrapping the engine's own bookkeeping
 * (`trackTensor` / `disposeTensor`). tfjs's `numBytes` (and so `tf.profile`) counts every tensor
 * handle, so a tensor saved for backprop (a clone) or a reshape view is counted twice; here each
 * buffer counts once, when it is created, and stops counting when the backend frees it. The peak
 * remembers which buffers were alive, so a breakdown can say what they were.
 */
export class BufferTracker {
  private readonly engine = tf.engine() as unknown as EngineInternals;
  private readonly live = new Map<object, TrackedBuffer>();
  private readonly residentOwners = new Map<object, string>();
  private readonly residentFreed = new Map<string | undefined, number>();
  private createdBytes = 0;
  private residentBytes = 0;
  private currentPhase: StepPhase = 'input';
  private restore?: () => void;
  /** Set while a wrapped Reshape kernel runs: a new buffer the size of `source` is a view of it. */
  private pendingView?: { source: object; size: number; dtype: tf.DataType };
  /** The highest tfjs `numBytes` (tfjs's own, per-handle accounting) while computing gradients, for comparison. */
  tfjsGradientsPeakBytes = 0;
  /** The same during the optimizer update. */
  tfjsUpdatePeakBytes = 0;
  /** The most bytes of the step's own input and forward values (activations) alive at any one time. */
  activationsPeakBytes = 0;
  private activationBytes = 0;
  /** The highest point of computing the gradients (input, forward, backward, accumulate). */
  gradientsPeak: PeakSnapshot = emptySnapshot(0);
  /** The highest point of the optimizer update. */
  updatePeak: PeakSnapshot = emptySnapshot(0);

  /** The higher of the two: the step's peak. */
  get peak(): PeakSnapshot {
    return this.updatePeak.bytes > this.gradientsPeak.bytes ? this.updatePeak : this.gradientsPeak;
  }

  /**
   * Starts tracking. `residentBytes` is what is alive now (unique buffers, as far as the caller
   * knows them); `owners` names the variables whose current buffers should be recognised if freed.
   */
  start(residentBytes: number, owners: tf.Variable[] = []): void {
    if (this.restore) throw new Error('BufferTracker.start: already tracking');
    this.residentBytes = residentBytes;
    for (const v of owners) this.residentOwners.set(v.dataId, v.name);
    this.gradientsPeak = emptySnapshot(residentBytes);
    this.updatePeak = emptySnapshot(residentBytes);
    this.tfjsGradientsPeakBytes = this.engine.state.numBytes;
    this.tfjsUpdatePeakBytes = this.engine.state.numBytes;
    const engine = this.engine;
    const originalTrack = engine.trackTensor;
    const originalDispose = engine.disposeTensor;
    engine.trackTensor = (a, backend) => {
      const isNew = !engine.state.tensorInfo.has(a.dataId);
      originalTrack.call(engine, a, backend);
      this.onTrack(a, isNew);
    };
    engine.disposeTensor = (a) => {
      originalDispose.call(engine, a);
      if (!engine.state.tensorInfo.has(a.dataId)) this.onFree(a);
    };
    const restoreReshape = this.wrapReshape();
    this.restore = () => {
      engine.trackTensor = originalTrack;
      engine.disposeTensor = originalDispose;
      restoreReshape();
    };
  }

  /**
   * On the tensorflow backend a reshape gets a new handle, but TensorFlow shares the buffer; the
   * other backends reuse the data id. The kernel is wrapped while tracking so that such outputs
   * count as views of their input rather than as new memory.
   */
  private wrapReshape(): () => void {
    const backendName = tf.getBackend();
    const config = tf.getKernel('Reshape', backendName);
    if (!config) return () => undefined;
    tf.unregisterKernel('Reshape', backendName);
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        const x = (args.inputs as { x: tf.TensorInfo }).x;
        this.pendingView = {
          source: x.dataId,
          size: tf.util.sizeFromShape(x.shape),
          dtype: x.dtype,
        };
        try {
          return config.kernelFunc(args);
        } finally {
          this.pendingView = undefined;
        }
      },
    });
    return () => {
      tf.unregisterKernel('Reshape', backendName);
      tf.registerKernel(config);
    };
  }

  stop(): void {
    this.restore?.();
    this.restore = undefined;
    this.live.clear();
    this.residentOwners.clear();
  }

  phase(phase: StepPhase): void {
    this.currentPhase = phase;
  }

  /** Tags buffers now alive as gradients (or accumulators): the ones in the peak snapshot too. */
  markGradients(tensors: tf.Tensor[]): void {
    for (const t of tensors) {
      // A gradient reshaped into its variable's shape is a view: the memory is its source's.
      for (
        let buffer = this.live.get(t.dataId);
        buffer;
        buffer = buffer.viewOf ? this.live.get(buffer.viewOf) : undefined
      ) {
        buffer.gradient = true;
      }
    }
  }

  /** Bytes alive right now: resident plus created, unique buffers. */
  get currentBytes(): number {
    return this.residentBytes + this.createdBytes;
  }

  private onTrack(a: tf.Tensor, isNew: boolean): void {
    const tfjsBytes = this.engine.state.numBytes;
    if (this.currentPhase === 'update')
      this.tfjsUpdatePeakBytes = Math.max(this.tfjsUpdatePeakBytes, tfjsBytes);
    else this.tfjsGradientsPeakBytes = Math.max(this.tfjsGradientsPeakBytes, tfjsBytes);
    let buffer = this.live.get(a.dataId);
    if (isNew && !buffer) {
      const view = this.pendingView;
      const isView =
        view !== undefined &&
        view.size === a.size &&
        view.dtype === a.dtype &&
        view.source !== a.dataId;
      const bytes = isView ? 0 : byteSize(a);
      buffer = {
        bytes,
        phase: this.currentPhase,
        gradient: false,
        viewOf: isView ? view.source : undefined,
      };
      this.live.set(a.dataId, buffer);
      this.createdBytes += bytes;
      this.countActivation(buffer, bytes);
      const update = this.currentPhase === 'update';
      if (this.currentBytes > (update ? this.updatePeak : this.gradientsPeak).bytes) {
        if (update) this.updatePeak = this.snapshot();
        else this.gradientsPeak = this.snapshot();
      }
    }
    if (buffer && a instanceof tf.Variable) buffer.variableName = a.name;
  }

  private onFree(a: tf.Tensor): void {
    const buffer = this.live.get(a.dataId);
    let bytes: number;
    if (buffer) {
      this.live.delete(a.dataId);
      this.createdBytes -= buffer.bytes;
      this.countActivation(buffer, -buffer.bytes);
      bytes = buffer.bytes;
    } else {
      // A buffer from before `start`: usually a variable's old value, replaced by an update.
      bytes = byteSize(a);
      const owner = this.residentOwners.get(a.dataId);
      this.residentBytes -= bytes;
      this.residentFreed.set(owner, (this.residentFreed.get(owner) ?? 0) + bytes);
    }
    // Views outlive their source: the memory now belongs to one of them.
    const views = [...this.live.values()].filter((b) => b.viewOf === a.dataId);
    if (views.length === 0 || bytes === 0) return;
    const [heir, ...others] = views;
    const heirId = [...this.live.entries()].find(([, b]) => b === heir)![0];
    heir.viewOf = undefined;
    heir.bytes = bytes;
    this.createdBytes += bytes;
    this.countActivation(heir, bytes);
    for (const other of others) other.viewOf = heirId;
  }

  private countActivation(buffer: TrackedBuffer, bytes: number): void {
    if (buffer.phase !== 'input' && buffer.phase !== 'forward') return;
    this.activationBytes += bytes;
    if (this.activationBytes > this.activationsPeakBytes)
      this.activationsPeakBytes = this.activationBytes;
  }

  private snapshot(): PeakSnapshot {
    return {
      bytes: this.currentBytes,
      residentBytes: this.residentBytes,
      residentFreed: new Map(this.residentFreed),
      created: [...this.live.values()].map((buffer) => ({ buffer, bytes: buffer.bytes })),
      phase: this.currentPhase,
    };
  }
}

function emptySnapshot(residentBytes: number): PeakSnapshot {
  return {
    bytes: residentBytes,
    residentBytes,
    residentFreed: new Map(),
    created: [],
    phase: 'input',
  };
}

/** Bytes of a tensor's buffer, as tfjs counts them (strings and complex parts aside). */
export function byteSize(t: { size: number; dtype: tf.DataType }): number {
  if (t.dtype === 'string' || t.dtype === 'complex64') return 0;
  return t.size * (t.dtype === 'bool' ? 1 : 4);
}
