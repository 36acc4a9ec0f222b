// The worker-thread side of ./two-stage-pool.ts: reads the shared training images, makes
// the samples of each request and transfers them back.
import { parentPort, workerData } from 'node:worker_threads';
import { workerSamples, type TwoStageWorkerInit, type TwoStageWorkerReply, type TwoStageWorkerRequest } from './two-stage-pool.js';
import type { BatchCache } from './two-stage-views.js';

const port = parentPort;
if (!port) throw new Error('two-stage-worker.ts must run in a worker thread');
const init = workerData as TwoStageWorkerInit;
const images = new Float32Array(init.images);
const cache: BatchCache = { pass: -1, perm: null, rgb: new Array(init.n) };
port.on('message', (m: TwoStageWorkerRequest) => {
  try {
    const chunk = workerSamples(init, images, m, cache);
    const reply: TwoStageWorkerReply = { type: 'done', id: m.id, chunk };
    port.postMessage(reply, [chunk.buffer as ArrayBuffer]);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const reply: TwoStageWorkerReply = { type: 'error', id: m.id, message: err.message, stack: err.stack };
    port.postMessage(reply);
  }
});
