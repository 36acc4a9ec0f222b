// Several JS threads calling the addon at once: the shared pool runs one parallel
// region at a time and the others compute the same chunks inline, so every thread
// gets exactly the single-threaded result.
import { Worker } from 'node:worker_threads';
import { nativeAddonPath } from '../../src/backend/native.js';
import { identical, native, nativeSuite, rand, rng } from './helpers.js';

const { it, run } = nativeSuite('native addon in concurrent worker threads');

const p = { N: 6, C: 16, H: 16, W: 16, K: 32, OH: 8, OW: 8, kh: 4, kw: 4, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1, groups: 1 };

it('conv2d from three threads at once matches the main-thread result bit for bit', async () => {
  const r = rng(5);
  const x = rand(r, p.N * p.C * p.H * p.W);
  const w = rand(r, p.K * p.C * 16);
  const want = new Float32Array(p.N * p.K * p.OH * p.OW);
  native.conv2d(p, x, w, null, want);
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const a = require(workerData.path);
    const y = new Float32Array(workerData.n);
    for (let i = 0; i < 20; i++) a.conv2d(workerData.p, workerData.x, workerData.w, null, y);
    parentPort.postMessage(y);
  `;
  const jobs = [0, 1, 2].map(
    () =>
      new Promise<Float32Array>((resolve, reject) => {
        const wk = new Worker(code, { eval: true, workerData: { path: nativeAddonPath, p, x, w, n: want.length } });
        wk.once('message', resolve);
        wk.once('error', reject);
      }),
  );
  // The main thread keeps using the pool meanwhile.
  const mine = new Float32Array(want.length);
  for (let i = 0; i < 20; i++) native.conv2d(p, x, w, null, mine);
  const results = await Promise.all(jobs);
  identical(mine, want, 'main thread');
  results.forEach((y, i) => identical(y, want, `worker ${i}`));
});

run();
