import type * as tf from '@tensorflow/tfjs';

/**
 * A hook that sees the input of every batchless layer call while it is installed. The trainer uses
 * it to add each layer's NLL to the loss of the same forward pass (the input is needed, and running
 * the model twice would double the cost); statistics and data-driven init use it to read the
 * activations a layer really receives. Observers run inside the model's own scopes, which dispose
 * every tensor made there when the forward pass returns: an observer must `tf.keep` what it makes
 * and dispose it itself.
 */
export type InputObserver = (layer: tf.layers.Layer, input: tf.Tensor) => void;

const observers: InputObserver[] = [];

/** Runs `fn` with `observer` installed; always uninstalls it, also when `fn` throws. */
export function withInputObserver<T>(observer: InputObserver, fn: () => T): T {
  observers.push(observer);
  try {
    return fn();
  } finally {
    observers.splice(observers.lastIndexOf(observer), 1);
  }
}

/** Called by the layer for each input it normalizes. */
export function notifyInputObservers(layer: tf.layers.Layer, input: tf.Tensor): void {
  for (const observer of observers) observer(layer, input);
}
