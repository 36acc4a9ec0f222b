// Exact kNN: the native KnnIndex (both GEMM engines) against faiss IndexFlatL2 on the same
// data in the same run, and against the plain GEMM of the same shape (the fused top-k's cost).
//
//   npm run bench -- knn [--n 100000] [--d 1024] [--queries 784] [--k 1] [--threads 2] [--runs 3] [--no-faiss]
//
// Data: seeded uniform [-1, 1) bank and queries, written to a temp folder for faiss
// (scripts/faiss_knn.py, run with /usr/bin/python3 and OPENBLAS_NUM_THREADS = threads). The
// neighbours are checked: equal to faiss's, or, where not, at a distance that ties with
// faiss's within float32 rounding (both use the ‖q‖² + ‖b‖² − 2q·b expansion).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuBackend, getBlas, setBlas, setThreads } from '../src/backend/native.js';
import { Generator } from '../src/engine/index.js';
import { KnnIndex } from '../src/memory-bank/index.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const n = arg('n', 100000);
const d = arg('d', 1024);
const nq = arg('queries', 784);
const k = arg('k', 1);
const threads = arg('threads', 2);
const runs = arg('runs', 3);
const withFaiss = !process.argv.includes('--no-faiss');

function median(fn: () => void): { ms: number; all: number[] } {
  fn(); // warm-up
  const all: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    fn();
    all.push(performance.now() - t0);
  }
  return { ms: [...all].sort((a, b) => a - b)[Math.floor(all.length / 2)], all };
}

function random(len: number, seed: number): Float32Array {
  const g = new Generator(seed);
  const a = new Float32Array(len);
  for (let i = 0; i < len; i++) a[i] = 2 * g.uniformFloat32() - 1;
  return a;
}

if (cpuBackend.unavailableReason()) {
  console.error(`bench knn: ${cpuBackend.unavailableReason()}`);
  process.exit(1);
}
setThreads(threads);
const gflop = (2 * nq * n * d) / 1e9;
console.log(`kNN: bank ${n} × ${d}, ${nq} queries per batch, k = ${k}, ${threads} threads, median of ${runs} (${gflop.toFixed(1)} GFLOP per batch)`);
const base = random(n * d, 1);
const queries = random(nq * d, 2);
const index = new KnnIndex(d);
index.add(base);

const engines = cpuBackend.info().openblasLinked ? (['builtin', 'openblas'] as const) : (['builtin'] as const);
const results: Record<string, { ms: number; idx: Int32Array; dist: Float32Array; gemmMs: number }> = {};
const gemm = cpuBackend.kernels.gemm!;
const c = new Float32Array(nq * n);
for (const engine of engines) {
  setBlas(engine);
  let out = index.search(queries, k);
  const t = median(() => {
    out = index.search(queries, k);
  });
  // The plain product of the same shape on the same engine: queries · bankᵀ (nq × n × d).
  const g = median(() => gemm({ M: nq, N: n, K: d, transA: false, transB: true, alpha: -2, beta: 0 }, queries, base, c));
  results[engine] = { ms: t.ms, idx: out.indices, dist: out.distances, gemmMs: g.ms };
  console.log(
    `  medianomaly ${engine.padEnd(8)} ${t.ms.toFixed(0).padStart(6)} ms/batch  ${((nq / t.ms) * 1000).toFixed(0).padStart(6)} queries/s  ` +
      `${(gflop / (t.ms / 1000)).toFixed(0)} GFLOP/s = ${((g.ms / t.ms) * 100).toFixed(0)} % of its GEMM (${(gflop / (g.ms / 1000)).toFixed(0)} GFLOP/s, ${g.ms.toFixed(0)} ms)`,
  );
}
setBlas('auto');
const defaultEngine = getBlas().active;

// A float16 bank (REQ-MEM 5): half the memory, bank blocks converted to float32 on the fly.
{
  const half = new KnnIndex(d, { storage: 'float16' });
  half.add(base);
  for (const engine of engines) {
    setBlas(engine);
    let out = half.search(queries, k);
    const t = median(() => {
      out = half.search(queries, k);
    });
    const f32 = results[engine];
    let same = 0;
    for (let i = 0; i < nq * k; i++) if (out.indices[i] === f32.idx[i]) same++;
    console.log(
      `  float16 bank ${engine.padEnd(8)} ${t.ms.toFixed(0).padStart(6)} ms/batch  ${((nq / t.ms) * 1000).toFixed(0).padStart(6)} queries/s  ` +
        `(${(f32.ms / t.ms).toFixed(2)}× the float32 bank's speed on ${engine}; ${(half.bytes / 2 ** 20).toFixed(0)} MiB instead of ${((n * d * 4 + n * 4) / 2 ** 20).toFixed(0)}); ` +
        `${same} of ${nq * k} neighbours identical to the float32 bank's`,
    );
  }
  setBlas('auto');
  // Small batches: the direct path (below 32 queries) against the GEMM on the same queries.
  for (const [label, idx] of [['float32', index], ['float16', half]] as const) {
    const cells: string[] = [];
    for (const b of [1, 8]) {
      const qb = queries.subarray(0, b * d);
      const timeOf = (below: string) => {
        process.env.MEDIANOMALY_KNN_DIRECT_BELOW = below;
        try {
          return median(() => idx.search(qb, k)).ms;
        } finally {
          delete process.env.MEDIANOMALY_KNN_DIRECT_BELOW;
        }
      };
      const direct = timeOf('32');
      const viaGemm = timeOf('0');
      cells.push(`batch ${b}: ${direct.toFixed(1)} ms direct vs ${viaGemm.toFixed(1)} ms GEMM (${(viaGemm / direct).toFixed(1)}×)`);
    }
    console.log(`  small batches, ${label} bank (${defaultEngine}): ${cells.join('; ')}`);
  }
}

if (withFaiss) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-knn-'));
  try {
    writeFileSync(join(dir, 'base.f32'), new Uint8Array(base.buffer, base.byteOffset, base.byteLength));
    writeFileSync(join(dir, 'queries.f32'), new Uint8Array(queries.buffer, queries.byteOffset, queries.byteLength));
    const script = fileURLToPath(new URL('../scripts/faiss_knn.py', import.meta.url));
    const r = spawnSync('/usr/bin/python3', [script, '--base', join(dir, 'base.f32'), '--queries', join(dir, 'queries.f32'), '--d', String(d), '--k', String(k), '--threads', String(threads), '--runs', String(runs), '--out', join(dir, 'faiss')], {
      encoding: 'utf8',
      env: { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) },
    });
    if (r.status !== 0) {
      console.log(`  faiss: not run (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`);
    } else {
      const f = JSON.parse(r.stdout.trim().split('\n').pop()!);
      const fms = f.seconds * 1000;
      console.log(`  faiss ${f.faiss} IndexFlatL2 ${fms.toFixed(0).padStart(6)} ms/batch  ${((nq / fms) * 1000).toFixed(0).padStart(6)} queries/s  ${(gflop / f.seconds).toFixed(0)} GFLOP/s (${f.threads} OpenMP threads)`);
      const fIdx = new BigInt64Array(readFileSync(join(dir, 'faiss.idx.i64')).buffer.slice(0));
      const fDist = new Float32Array(readFileSync(join(dir, 'faiss.dist.f32')).buffer.slice(0));
      for (const engine of engines) {
        const res = results[engine];
        let same = 0;
        let ties = 0;
        let worse = 0;
        for (let i = 0; i < nq * k; i++) {
          if (Number(fIdx[i]) === res.idx[i]) same++;
          else if (Math.abs(fDist[i] - res.dist[i]) <= 1e-5 * Math.max(1, fDist[i])) ties++;
          else worse++;
        }
        console.log(
          `  ${engine}: ${(fms / res.ms).toFixed(2)}× faiss's queries/s; neighbours: ${same} identical, ${ties} different at a distance tied within rounding, ${worse} disagreeing` +
            (engine === defaultEngine ? ' (the default engine)' : ''),
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export {};
