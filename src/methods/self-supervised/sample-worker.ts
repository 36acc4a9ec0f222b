// The worker-thread side of ./sample-pool.ts: reads the shared training images once, then
// makes the samples of each job list it is sent and transfers the arrays back.
import { parentPort, workerData } from 'node:worker_threads';
import { makeBatch, type SampleWorkerInit, type SampleWorkerReply, type SampleWorkerRequest } from './sample-pool.js';

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('sample-worker.ts must run in a worker thread');
  const init = workerData as SampleWorkerInit;
  if (init.backend) {
    const { setBackend } = await import('../../engine/index.js');
    setBackend(init.backend);
  }
  const images = new Uint8Array(init.images, 0, init.length);
  port.on('message', (m: SampleWorkerRequest) => {
    if (m.type === 'close') {
      port.close();
      return;
    }
    let reply: SampleWorkerReply;
    try {
      const b = makeBatch(images, m.jobs, init.settings);
      reply = { type: 'done', id: m.id, input: b.input, label: b.label };
      port.postMessage(reply, [b.input.buffer as ArrayBuffer, b.label.buffer as ArrayBuffer]);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      reply = { type: 'error', id: m.id, message: err.message, stack: err.stack };
      port.postMessage(reply);
    }
  });
}

void main();
