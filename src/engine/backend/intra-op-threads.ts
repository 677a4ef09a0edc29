// How many threads TensorFlow computes each op with in this process. TensorFlow reads
// TF_NUM_INTRAOP_THREADS once, when it loads; unset, its pool has a thread per CPU.

/** Up to this many CPUs the engine asks for one thread per op when nobody chose a number. */
export const ONE_THREAD_MAX_CPUS = 2;

export interface IntraOpThreads {
  threads: number;
  detail: string;
  /** The value to put in TF_NUM_INTRAOP_THREADS before TensorFlow loads, when the engine chose it. */
  env?: string;
}

/**
 * TF_NUM_INTRAOP_THREADS when it is set (`--threads`, the `batchless.engine.threads` setting);
 * else one thread on a machine of at most 2 CPUs, else TensorFlow's default. Measured on 2 CPUs
 * (docs/benchmarks.md, parts 3 and 4), three alternating runs of 250 steps at batch 64: every op
 * large enough to be split waits ~80 µs for a second pool thread, and builtin:mlp's compiled step
 * takes 1.9–2.6 ms with one thread per op against 2.1–3.1 ms with two; builtin:cnn's is ~5%
 * slower with one (6.6–8.2 against 6.3–7.8 ms). The graph's inter-op threads use both CPUs either
 * way, and one leaves the editor room. Machines with more CPUs were not measured: they keep
 * TensorFlow's default.
 */
export function intraOpThreadsFor(env: NodeJS.ProcessEnv, cpus: number): IntraOpThreads {
  const given = Number(env.TF_NUM_INTRAOP_THREADS);
  if (Number.isInteger(given) && given > 0) return { threads: given, detail: 'TensorFlow intra-op threads, from TF_NUM_INTRAOP_THREADS' };
  if (cpus <= ONE_THREAD_MAX_CPUS) return { threads: 1, detail: `one thread per op, the engine's default on ${ONE_THREAD_MAX_CPUS} CPUs or fewer (set --threads or engine.threads to change)`, env: '1' };
  return { threads: cpus, detail: 'TensorFlow intra-op default: the schedulable CPUs' };
}
