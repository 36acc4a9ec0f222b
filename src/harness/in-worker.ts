// The library's async, off-main-thread API: `fitInWorker` trains a run folder and
// `testInWorker` re-tests one, each in a worker_threads Worker, so the host application's
// event loop keeps running while the kernels compute. The worker loads the dataset
// itself from its spec (name + load options): no images cross the thread boundary, only
// progress messages and the outcome.
//
// Abort (AbortSignal, Ctrl-C): the worker stops after the current optimiser step; the last
// finished epoch's checkpoint stays in the run folder and the promise rejects with a
// RunInterrupted error saying how far it got.
import { Worker } from 'node:worker_threads';
import { currentBackend } from '../engine/index.js';
import type { Progress, ScoreProgress } from '../methods/types.js';
import type { RunMetrics } from './evaluate.js';
import { RunInterrupted } from './interrupted.js';
import type { EpochLogLine } from './run-folder.js';
import type { TrainOutcome, TrainPlan, TrainSpec } from './train.js';
import type { WorkerInput, WorkerMessage, WorkerTask } from './worker.js';

export interface WorkerHooks {
  onProgress?: (p: Progress) => void;
  onEpoch?: (line: EpochLogLine) => void;
  onPlan?: (plan: TrainPlan) => void;
  onScore?: (p: ScoreProgress) => void;
  signal?: AbortSignal;
}

/** A Worker running ./worker.ts: under tsx (sources) it registers tsx first; compiled, it runs worker.js. */
function spawnWorker(input: WorkerInput): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // Workers do not inherit the parent's module loader hooks, and `--import tsx` in a
    // worker's execArgv does not take effect for its entry module on Node 20: register
    // tsx from a tiny ESM bootstrap, then import the TypeScript entry.
    const api = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./worker.ts', here).href;
    const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(code, { eval: true, workerData: input });
  }
  return new Worker(new URL('./worker.js', here), { workerData: input });
}

/** Runs a harness task in a worker thread. */
export function runInWorker<T>(task: WorkerTask, hooks: WorkerHooks = {}): Promise<T> {
  const abortFlag = new SharedArrayBuffer(4);
  const flag = new Int32Array(abortFlag);
  const worker = spawnWorker({ task, abortFlag, backend: currentBackend() });
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const onAbort = () => {
      Atomics.store(flag, 0, 1);
      worker.postMessage({ type: 'abort' });
    };
    if (hooks.signal?.aborted) onAbort();
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      hooks.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    worker.on('message', (m: WorkerMessage) => {
      switch (m.type) {
        case 'progress':
          hooks.onProgress?.(m.progress);
          break;
        case 'epoch':
          hooks.onEpoch?.(m.line);
          break;
        case 'plan':
          hooks.onPlan?.(m.plan);
          break;
        case 'score':
          hooks.onScore?.(m.progress);
          break;
        case 'done':
          finish(() => resolve(m.result as T));
          break;
        case 'interrupted':
          finish(() => reject(new RunInterrupted(m.dir, m.stage, m.epochsDone, m.epochs)));
          break;
        case 'error': {
          const e = new Error(m.message);
          e.name = m.name;
          if (m.stack) e.stack = m.stack;
          finish(() => reject(e));
          break;
        }
      }
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the training worker exited (code ${code}) before it reported a result`))));
  });
}

/** Trains a run folder in a worker thread (see train()); resolves with the outcome. */
export function fitInWorker(spec: TrainSpec, hooks: WorkerHooks = {}): Promise<TrainOutcome> {
  return runInWorker<TrainOutcome>({ kind: 'train', spec }, hooks);
}

/** Re-tests a trained run folder in a worker thread; resolves with its metrics. */
export function testInWorker(dir: string, options: { root?: string; signal?: AbortSignal; onScore?: (p: ScoreProgress) => void } = {}): Promise<RunMetrics> {
  return runInWorker<RunMetrics>({ kind: 'test', dir, root: options.root }, { signal: options.signal, onScore: options.onScore });
}
