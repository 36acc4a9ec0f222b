// Poisson blending (anomalies.seamlessClone, kernel poissonSolve): the native kernel on 1 and
// 2 threads against the ts kernel and against cv2.seamlessClone (OpenCV 4.6, DST solver) on
// the same inputs in the same run, as ratios; plus the mean |difference| from OpenCV.
//
//   npm run bench -- poisson [--runs 5] [--no-opencv]
//
// Cases (MIXED_CLONE, as PII / NSA call it, and NORMAL_CLONE): 224 × 224 RGB textures; a
// patch_ex-sized patch (a 96 × 80 full mask, as patch_ex passes one) and the largest
// patch (a 224 × 224 full mask: a 222 × 222 box, the whole image re-solved).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuBackend, setThreads } from '../src/backend/native.js';
import { Generator, setBackend } from '../src/engine/index.js';
import { seamlessCloneDetailed } from '../src/anomalies/seamless-clone.js';
import type { PixelImage } from '../src/anomalies/image.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const runs = arg('runs', 5);
const withOpencv = !process.argv.includes('--no-opencv');

function median(fn: () => void): number {
  fn();
  const all: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    fn();
    all.push(performance.now() - t0);
  }
  return all.sort((a, b) => a - b)[Math.floor(all.length / 2)];
}

/** Smooth gradients plus seeded noise, so that mixed cloning has both images' gradients to choose from. */
function texture(w: number, h: number, seed: number): PixelImage {
  const g = new Generator(seed);
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        const v = 128 + 60 * Math.sin((x * (c + 1)) / 17 + y / 23 + seed) + 40 * (g.uniformFloat32() - 0.5);
        data[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
  return { width: w, height: h, channels: 3, data };
}

interface Case {
  name: string;
  src: PixelImage;
  dst: PixelImage;
  mask: PixelImage;
  center: { x: number; y: number };
  mode: 'normal' | 'mixed';
}

const cases: Case[] = [];
for (const [pw, ph, cx, cy] of [[96, 80, 100, 120], [224, 224, 112, 112]] as const) {
  for (const mode of ['mixed', 'normal'] as const) {
    cases.push({
      name: `${pw}x${ph}-${mode}`,
      src: texture(pw, ph, 1),
      dst: texture(224, 224, 2),
      mask: { width: pw, height: ph, channels: 1, data: new Uint8Array(pw * ph).fill(255) },
      center: { x: cx, y: cy },
      mode,
    });
  }
}

if (cpuBackend.unavailableReason()) console.log(`cpu backend unavailable (${cpuBackend.unavailableReason()}): ts only`);
const rows: string[][] = [['case', 'ts ms', 'cpu 1t ms', 'cpu 2t ms', 'cv2 1t ms', 'cv2 2t ms', 'ts/cpu1', 'cpu1/cv2', 'cpu2/cv2', 'CG its', 'mean |Δ| vs cv2', 'max']];
const outputs = new Map<string, Uint8Array>();
const times = new Map<string, number[]>();
for (const c of cases) {
  const t: number[] = [];
  setBackend('ts');
  t.push(median(() => seamlessCloneDetailed(c.src, c.dst, c.mask, c.center, c.mode)));
  if (!cpuBackend.unavailableReason()) {
    setBackend('cpu');
    for (const threads of [1, 2]) {
      setThreads(threads);
      t.push(median(() => seamlessCloneDetailed(c.src, c.dst, c.mask, c.center, c.mode)));
    }
  }
  const r = seamlessCloneDetailed(c.src, c.dst, c.mask, c.center, c.mode);
  outputs.set(c.name, r.image.data as Uint8Array);
  times.set(c.name, t);
  (c as Case & { its: string }).its = r.iterations.join('/');
}

const cv = new Map<string, number[]>();
const cvOut = new Map<string, Uint8Array>();
if (withOpencv) {
  const dir = mkdtempSync(join(tmpdir(), 'poisson-bench-'));
  try {
    writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases.map((c) => ({ name: c.name, src: [c.src.width, c.src.height], dst: [c.dst.width, c.dst.height], center: [c.center.x, c.center.y], mode: c.mode }))));
    for (const c of cases) {
      writeFileSync(join(dir, `${c.name}.src`), c.src.data as Uint8Array);
      writeFileSync(join(dir, `${c.name}.dst`), c.dst.data as Uint8Array);
      writeFileSync(join(dir, `${c.name}.mask`), c.mask.data as Uint8Array);
    }
    const script = fileURLToPath(new URL('../scripts/opencv_seamless_bench.py', import.meta.url));
    for (const threads of [1, 2]) {
      const p = spawnSync('/usr/bin/python3', [script, dir, String(threads), String(runs)], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
      if (p.status !== 0) {
        console.log(`cv2 unavailable (${(p.stderr || p.error?.message || '').trim().split('\n').pop()}): no OpenCV column`);
        break;
      }
      const res = JSON.parse(p.stdout) as Record<string, { ms: number }>;
      for (const c of cases) {
        cv.set(c.name, [...(cv.get(c.name) ?? []), res[c.name].ms]);
        cvOut.set(c.name, new Uint8Array(readFileSync(join(dir, `${c.name}.cv2`))));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const f = (v: number | undefined, d = 1) => (v === undefined ? '—' : v.toFixed(d));
for (const c of cases) {
  const [ts, c1, c2] = times.get(c.name)!;
  const [o1, o2] = cv.get(c.name) ?? [];
  let mean: number | undefined;
  let max: number | undefined;
  const ref = cvOut.get(c.name);
  if (ref) {
    // over the re-solved box (dst elsewhere is identical by construction)
    const out = outputs.get(c.name)!;
    let s = 0, n = 0, m = 0;
    for (let i = 0; i < out.length; i++) {
      if (out[i] === c.dst.data[i] && ref[i] === c.dst.data[i]) continue;
      const d = Math.abs(out[i] - ref[i]);
      s += d; n++; m = Math.max(m, d);
    }
    mean = n ? s / n : 0;
    max = m;
  }
  rows.push([c.name, f(ts), f(c1), f(c2), f(o1), f(o2), f(c1 ? ts / c1 : undefined, 2), f(o1 ? c1 / o1 : undefined, 2), f(o2 ? c2 / o2 : undefined, 2), (c as Case & { its: string }).its, f(mean, 4), f(max, 0)]);
}
const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
for (const r of rows) console.log(r.map((v, j) => v.padStart(widths[j])).join('  '));
console.log('mean |Δ| over the pixels either changed; cpu/cv2 > 1 means OpenCV is faster.');
