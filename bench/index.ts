// `npm run bench -- <name> [...]`: the project's benchmarks, each reporting ratios measured
// in one run (never absolute times across machines).
//   ae-step     unified AE training step and inference: cpu 1/2 threads, ts, PyTorch
//   ae-memory   1000 AE training steps: resident memory flat after warm-up, peak
//   memory      peak RSS of AE and DAE training steps vs PyTorch's (fresh child processes)
//   gemm        built-in GEMM vs OpenBLAS, conv layers native vs ts
//   backbone    resnet18 / wide_resnet50_2 / vgg19 forward and their conv layers vs PyTorch ([layers|nets])
//   patchcore   PatchCore official preset, 200 images at 224 px: fit and inference images/s, peak memory vs the bank
//   linalg      PaDiM Gaussian kernels (moments, Cholesky inverse, Mahalanobis): native vs ts
//   knn         exact kNN (KnnIndex, both GEMM engines) vs faiss IndexFlatL2 and vs the plain GEMM
//   coreset     greedy coreset ms/iteration vs a straightforward TS loop and numpy
//   data        decode + resize throughput
//   metrics     metric time for 10⁷ pooled pixels
//   methods     method training throughput vs PyTorch
//   worker      host event-loop gaps while a fit runs in a worker thread
//   synthetic   built-in synthetic dataset generation speed
//   ssl         one-stage SSL training step vs PyTorch, synthetic-sample throughput, ProjectionNet step ([one-stage|generate|projection|all])
//   ssl-two-stage ProjectionNet training step (64 + 64 at 224 px) vs PyTorch, 1 and 2 threads
//   poisson     seamlessClone (Poisson blending) at 224 px: native 1/2 threads vs ts vs cv2.seamlessClone
//   feature-methods rd4ad and cflow training images/s at 256 px (wide_resnet50_2) vs PyTorch, 1 and 2 threads
//   attention   scaled dot-product attention forward / forward+backward at U-Net sizes: cpu 1/2 threads, ts, PyTorch
//   diffusion   AnoDDPM and MONAI U-Net training / denoising step at 64 and 128 px vs PyTorch, 1 and 2 threads, peak RSS
//   queue       bench sweeps on the BullMQ queue: overhead per job, 2 workers × 1 thread vs 1 local × 2 threads
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchAeMemory, benchAeStep } from './ae-step.js';
import { benchMemory } from './memory.js';

const [name = 'ae-step', ...rest] = process.argv.slice(2);
const local: Record<string, () => void> = {
  'ae-step': () => benchAeStep(),
  'ae-memory': () => benchAeMemory(rest[0] ? Number(rest[0]) : 1000),
  memory: () => benchMemory(rest[0] ? rest[0].split(',') : undefined, rest[1] ? Number(rest[1]) : undefined),
};
const files = ['gemm', 'backbone', 'patchcore', 'linalg', 'knn', 'coreset', 'data', 'metrics', 'methods', 'worker', 'synthetic', 'ssl-two-stage', 'poisson', 'ssl', 'feature-methods', 'attention', 'diffusion', 'queue'];

if (local[name]) {
  local[name]();
} else if (files.includes(name)) {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  if (!existsSync(file)) throw new Error(`bench ${name}: ${file} is missing`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...rest], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
} else {
  console.error(`unknown bench "${name}"; choose one of: ${[...Object.keys(local), ...files].join(', ')}`);
  process.exitCode = 2;
}
