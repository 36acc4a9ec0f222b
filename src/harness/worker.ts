// The worker-thread side of ./in-worker.ts: receives a task (train, test), runs it with
// the harness functions of this thread's own module instances, and posts progress, epoch
// lines and the outcome back. An abort arrives as a flag in shared memory, checked on
// every progress report, so it is seen between two optimiser steps even while the
// method never yields to this thread's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import type { Progress, ScoreProgress } from '../methods/types.js';
import { isAbortError, RunInterrupted } from './interrupted.js';
import type { EpochLogLine } from './run-folder.js';
import { testRun, train, type TrainPlan, type TrainSpec } from './train.js';

export type WorkerTask = { kind: 'train'; spec: TrainSpec } | { kind: 'test'; dir: string; root?: string };

export interface WorkerInput {
  task: WorkerTask;
  /** Int32Array(1) over a SharedArrayBuffer: 1 = abort requested. */
  abortFlag: SharedArrayBuffer;
  /** Backend the parent uses (MEDIANOMALY_BACKEND semantics), so both threads agree. */
  backend?: string;
}

export type WorkerMessage =
  | { type: 'progress'; progress: Progress }
  | { type: 'epoch'; line: EpochLogLine }
  | { type: 'plan'; plan: TrainPlan }
  | { type: 'score'; progress: ScoreProgress }
  | { type: 'done'; result: unknown }
  | { type: 'interrupted'; dir: string; stage: RunInterrupted['stage']; epochsDone: number; epochs: number }
  | { type: 'error'; name: string; message: string; stack?: string };

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('harness/worker.ts must run in a worker thread');
  const input = workerData as WorkerInput;
  const flag = new Int32Array(input.abortFlag);
  const controller = new AbortController();
  const checkAbort = () => {
    if (!controller.signal.aborted && Atomics.load(flag, 0) === 1) controller.abort();
  };
  port.on('message', (m: { type?: string }) => {
    if (m?.type === 'abort') controller.abort();
  });
  const post = (m: WorkerMessage) => port.postMessage(m);
  try {
    if (input.backend) {
      const { setBackend } = await import('../engine/index.js');
      setBackend(input.backend);
    }
    const task = input.task;
    let result: unknown;
    if (task.kind === 'train') {
      const outcome = await train(task.spec, {
        signal: controller.signal,
        onProgress: (p: Progress) => {
          checkAbort();
          post({ type: 'progress', progress: p });
        },
        onEpoch: (line) => post({ type: 'epoch', line }),
        onPlan: (plan) => post({ type: 'plan', plan }),
        onScore: (progress) => post({ type: 'score', progress }),
      });
      result = outcome;
    } else if (task.kind === 'test') {
      result = await testRun(task.dir, { root: task.root }, (progress) => post({ type: 'score', progress }));
    } else {
      throw new TypeError(`unknown worker task ${JSON.stringify((task as { kind?: unknown }).kind)}`);
    }
    post({ type: 'done', result });
  } catch (e) {
    if (e instanceof RunInterrupted) post({ type: 'interrupted', dir: e.dir, stage: e.stage, epochsDone: e.epochsDone, epochs: e.epochs });
    else if (isAbortError(e)) post({ type: 'interrupted', dir: '', stage: 'training', epochsDone: 0, epochs: 0 });
    else {
      const err = e instanceof Error ? e : new Error(String(e));
      post({ type: 'error', name: err.name, message: err.message, stack: err.stack });
    }
  } finally {
    port.close();
  }
}

await main();
