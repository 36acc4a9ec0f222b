// Greedy coreset: ms per pick of the native fused pass (float16 and float32 points, 1 and 2
// threads) against a straightforward TypeScript loop and the numpy loop of the official
// sampler, same data, same run, best of --repeats runs each. Each pick reads every
// projected point once (n × d′ × 2 bytes as float16, × 4 as float32).
//
// "Straightforward loop": plain TypeScript farthest-point selection on the same projected
// float32 points (a Float32Array [n, d′]): per pick, for every point, Σ (x − c)² over d′ in
// a scalar loop, the running minimum in a Float64Array, the arg-max in the same loop.
//
//   npm run bench -- coreset [--n 200000,214016] [--dim 128] [--iterations 200] [--repeats 3] [--project] [--no-numpy]
//
// --project also times coreset()'s projection of a [n, 1024] bank to d′ (one pass, native).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuBackend, setThreads } from '../src/backend/native.js';
import { coresetGreedy, coresetGreedyHalf, coresetProject, Generator, halfFromFloat, setBackend, Tensor } from '../src/engine/index.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const sizes = arg('n', '200000,214016').split(',').map(Number);
const dim = Number(arg('dim', '128'));
const iterations = Number(arg('iterations', '200'));
const repeats = Number(arg('repeats', '3'));

if (cpuBackend.unavailableReason()) {
  console.error(`bench coreset: ${cpuBackend.unavailableReason()}`);
  process.exit(1);
}
setBackend('cpu');

function random(len: number, seed: number): Float32Array {
  const g = new Generator(seed);
  const a = new Float32Array(len);
  for (let i = 0; i < len; i++) a[i] = 2 * g.uniformFloat32() - 1;
  return a;
}

/** The loop anyone would write first: distance to the newest centre, running minimum, arg-max. */
function tsLoop(x: Float32Array, n: number, d: number, iters: number): number {
  const mind = new Float64Array(n).fill(Infinity);
  let newest = 0;
  const t0 = performance.now();
  for (let it = 0; it < iters; it++) {
    const c = newest * d;
    let best = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let t = 0; t < d; t++) {
        const e = x[i * d + t] - x[c + t];
        s += e * e;
      }
      if (s < mind[i]) mind[i] = s;
      if (mind[i] > mind[best]) best = i;
    }
    newest = best;
  }
  return (performance.now() - t0) / iters;
}

for (const n of sizes) {
  console.log(
    `coreset: n = ${n}, d′ = ${dim}: ${((n * dim * 2) / 1e6).toFixed(0)} MB (float16) / ${((n * dim * 4) / 1e6).toFixed(0)} MB (float32) read per pick; ` +
      `a 10 % coreset = ${Math.floor(n * 0.1)} picks; best of ${repeats} runs of ${iterations} picks`,
  );
  const x = random(n * dim, n);
  const pts = Tensor.fromData(x, [n, dim]);
  const half = halfFromFloat(x);
  const rows: Record<string, number> = {};
  for (const precision of ['float16', 'float32'] as const) {
    const bytes = n * dim * (precision === 'float16' ? 2 : 4);
    for (const threads of [1, 2]) {
      setThreads(threads);
      const picks = (m: number, minDist: Float32Array, newest: number) =>
        precision === 'float16' ? coresetGreedyHalf(half, n, dim, minDist, m, { newest }) : coresetGreedy(pts, minDist, m, { newest });
      let best = Infinity;
      for (let r = 0; r < repeats; r++) {
        const minDist = new Float32Array(n).fill(Infinity);
        const sel = picks(10, minDist, 0); // warm-up
        const t0 = performance.now();
        picks(iterations, minDist, sel[9]);
        best = Math.min(best, (performance.now() - t0) / iterations);
      }
      rows[`${precision} ${threads}`] = best;
      console.log(
        `  native ${precision}, ${threads} thread(s): ${best.toFixed(2)} ms/pick (${(bytes / best / 1e6).toFixed(1)} GB/s); 10 % coreset ≈ ${((best * n * 0.1) / 1000).toFixed(0)} s`,
      );
    }
  }
  const native2 = Math.min(rows['float16 1'], rows['float16 2']);
  const native32 = Math.min(rows['float32 1'], rows['float32 2']);
  let tsMs = Infinity;
  for (let r = 0; r < repeats; r++) tsMs = Math.min(tsMs, tsLoop(x, n, dim, Math.max(3, Math.min(10, Math.floor(iterations / 20)))));
  console.log(
    `  straightforward TS loop (scalar TypeScript on the same projected float32 points): ${tsMs.toFixed(1)} ms/pick → ` +
      `native float16 (best thread count) is ${(tsMs / native2).toFixed(1)}× faster, native float32 ${(tsMs / native32).toFixed(1)}×`,
  );
  if (!process.argv.includes('--no-numpy')) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-coreset-'));
    try {
      writeFileSync(join(dir, 'points.f32'), new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
      const script = fileURLToPath(new URL('../scripts/numpy_coreset.py', import.meta.url));
      const r = spawnSync('/usr/bin/python3', [script, '--points', join(dir, 'points.f32'), '--d', String(dim), '--iterations', '20'], {
        encoding: 'utf8',
        env: { ...process.env, OPENBLAS_NUM_THREADS: '2', OMP_NUM_THREADS: '2' },
      });
      if (r.status !== 0) console.log(`  numpy loop: not run (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`);
      else {
        const f = JSON.parse(r.stdout.trim().split('\n').pop()!);
        const ms = f.seconds_per_iteration * 1000;
        console.log(`  numpy loop (official sampler's arithmetic, 2 BLAS threads): ${ms.toFixed(1)} ms/pick → native float16 is ${(ms / native2).toFixed(1)}× faster`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (process.argv.includes('--project')) {
    setThreads(2);
    const d = 1024;
    const bank = Tensor.fromData(random(n * d, 7), [n, d]);
    const wt = Tensor.fromData(random(d * dim, 8).map((v) => v / 32), [d, dim]);
    const t0 = performance.now();
    coresetProject(bank, wt);
    console.log(`  projection ${n} × ${d} → ${dim} (2 threads): ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  }
}
