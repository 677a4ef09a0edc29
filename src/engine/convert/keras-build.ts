import * as tf from '@tensorflow/tfjs';
import { patchBatchNormInference } from './bn-any-axis';
import { LayerPlan, translateTopology, TranslateOptions } from './keras-config';
import { assignKerasWeights } from './keras-weights';
import { fail, ModelFormatError, ModelWhere, withModelErrors } from './model-errors';
import { Hdf5Reader } from './read-hdf5';

export interface BuiltModel {
  model: tf.LayersModel;
  notes: string[];
}

export interface BuildOptions extends TranslateOptions {
  /**
   * For conversion only: load a BatchNormalization over a non-last axis (refused otherwise) with
   * an inference-only call that computes it correctly, as the parity reference (bn-any-axis.ts).
   */
  batchNormAnyAxis?: boolean;
}

/** Builds the tfjs model a translated topology describes (weights freshly initialized). */
export async function buildTopology(
  raw: unknown,
  file: string,
  options: BuildOptions = {},
): Promise<BuiltModel & { plan: LayerPlan; topology: Record<string, unknown> }> {
  const { topology, plan, notes } = translateTopology(raw, file, options);
  const before = new Set(Object.keys(tf.engine().registeredVariables));
  const model = await withModelErrors({ file }, 'tfjs could not build the model', () =>
    tf.models.modelFromJSON({ modelTopology: topology as tf.io.ModelJSON['modelTopology'] }),
  ).catch((e: unknown) => {
    // tfjs gives no handle on the layers it built before failing: free their variables by name.
    const registered = tf.engine().registeredVariables;
    for (const name of Object.keys(registered)) if (!before.has(name)) registered[name].dispose();
    throw e instanceof ModelFormatError
      ? new ModelFormatError(buildFailureWhere(plan, e), e.detail, { cause: e.cause })
      : e;
  });
  try {
    checkBatchNormAxes(model, file, options.batchNormAnyAxis === true ? notes : undefined);
  } catch (e) {
    model.dispose();
    throw e;
  }
  applyModelTrainable(plan, model);
  return { model, notes, plan, topology };
}

/** A Keras topology plus its HDF5 weights (Keras 3 layout, or legacy under `legacyRoot`). */
export async function buildKerasModel(
  raw: unknown,
  file: string,
  weights: Hdf5Reader,
  legacyRoot?: string,
  options: BuildOptions = {},
): Promise<BuiltModel> {
  const { model, notes, plan } = await buildTopology(raw, file, options);
  try {
    assignKerasWeights(model, plan, weights, legacyRoot);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, notes };
}

/**
 * tfjs's build errors name no field; many name the layer in their text ("incompatible with layer
 * hidden"): the longest layer name of the plan found there, or else the model's layer list.
 */
function buildFailureWhere(plan: LayerPlan, error: ModelFormatError): ModelWhere {
  const names: string[] = [];
  const collect = (p: LayerPlan): void => {
    names.push(p.name);
    p.children?.forEach(collect);
  };
  collect(plan);
  const mentioned = names
    .filter((n) =>
      new RegExp(`(^|[\\s'"])${n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[\\s'":,.])`).test(
        error.detail,
      ),
    )
    .sort((a, b) => b.length - a.length)[0];
  return mentioned === undefined
    ? { file: error.file, field: 'layers' }
    : { file: error.file, layer: mentioned };
}

// tfjs takes `trainable` from a layer's config but not from a nested model's, so set those here.
function applyModelTrainable(plan: LayerPlan, container: tf.LayersModel): void {
  for (const child of plan.children ?? []) {
    if (child.children === undefined) continue;
    const nested = container.getLayer(child.name) as tf.LayersModel;
    if (!child.trainable) nested.trainable = false;
    applyModelTrainable(child, nested);
  }
  if (!plan.trainable) container.trainable = false;
}

/**
 * tfjs 4.22's BatchNorm kernel (measured on cpu) walks the statistics along the flattened input as if
 * channels were last, so a Keras BN over any other axis (axis=1 of [batch, C, L]) would silently
 * compute something else: measured 0.76 off on the channels_first fixture. Refuse it, unless
 * loading for conversion (`patched` collects notes): then it gets a correct inference-only call.
 */
function checkBatchNormAxes(container: tf.LayersModel, file: string, patched?: string[]): void {
  for (const layer of container.layers) {
    if (layer instanceof tf.LayersModel) {
      checkBatchNormAxes(layer, file, patched);
      continue;
    }
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const axis = (layer.getConfig() as { axis?: number }).axis ?? -1;
    for (const node of layer.inboundNodes) {
      const rank = node.inputTensors[0]?.shape.length ?? 0;
      const resolved = axis < 0 ? axis + rank : axis;
      if (resolved === rank - 1) continue;
      if (patched !== undefined && resolved >= 1 && resolved < rank) {
        patchBatchNormInference(layer, axis);
        patched.push(
          `${layer.name}: BatchNormalization over axis ${axis} of a rank-${rank} input, which tfjs ` +
            'cannot run; its inference map is computed directly for the parity check',
        );
        break;
      }
      fail(
        { file, layer: layer.name, field: 'axis' },
        `normalizes axis ${axis} of a rank-${rank} input; tfjs's BatchNorm kernels only broadcast ` +
          'over the last axis, so this layer cannot be loaded without changing its results ' +
          '(converting it to batchless normalization works: `batchless convert`)',
      );
    }
  }
}
