import * as ort from 'onnxruntime-node';

/** What the model cache needs of a loaded model; ONNX Runtime's session in production, a fake in unit tests. */
export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the model; `fetches` limits which outputs are computed and returned (all when omitted). */
  run(feeds: Record<string, ort.Tensor>, fetches?: readonly string[]): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

export type SessionFactory = (bytes: Uint8Array) => Promise<ModelSession>;

export interface OrtSessionOptions {
  /** Threads per session for one operator; small, because many sessions share the machine's cores. */
  intraOpNumThreads: number;
}

/** ONNX Runtime sessions with full graph optimisation and sequential execution (no inter-op thread pool). */
export function ortSessionFactory(opts: OrtSessionOptions): SessionFactory {
  return async (bytes) => {
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: opts.intraOpNumThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return {
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      run: (feeds, fetches) => (fetches ? session.run(feeds, [...fetches]) : session.run(feeds)),
      release: () => session.release(),
    };
  };
}
