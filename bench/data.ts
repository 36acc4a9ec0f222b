// Data pipeline benchmark and resampler comparison.
//
//   node --import tsx bench/data.ts            throughput + sharp-vs-Pillow differences
//   node --import tsx bench/data.ts --quick    fewer images
//
// Throughput: decode + reference preprocessing (Pillow `L`, resize 512 → 64, [-1, 1]) of
// PNG and JPEG files generated in a temp dir, with `pil-bilinear` (the TypeScript Pillow
// port) and `sharp` (libvips), one image at a time and 8 in flight (what Split.images()
// does). Differences: max and mean |sharp − Pillow| in 8-bit grey levels on a few images.

import sharp from 'sharp';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { decodeImage } from '../src/data/decode/image.js';
import { preprocessImage } from '../src/data/preprocess.js';
import { pilResize, sharpResizeImage } from '../src/data/resize.js';
import type { Resample } from '../src/data/types.js';
import { mapLimit, seededRandom } from '../src/data/util.js';
import { parseIdx } from '../src/data/decode/idx.js';

/** A chest-X-ray-like 8-bit image: smooth anatomy-like shading, edges, fine noise. */
export function syntheticScan(size: number, seed: number): Uint8Array {
  const rand = seededRandom(seed);
  const out = new Uint8Array(size * size);
  const blobs = Array.from({ length: 6 }, () => ({ x: rand() * size, y: rand() * size, r: (0.05 + rand() * 0.2) * size, a: 40 + rand() * 80 }));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = x / size - 0.5, v = y / size - 0.5;
      let val = 90 + 60 * Math.cos(u * 3) * Math.cos(v * 2.5);
      // two "lung fields" with a sharp rim
      for (const cx of [-0.2, 0.2]) if (((u - cx) / 0.16) ** 2 + (v / 0.3) ** 2 < 1) val -= 55;
      for (const b of blobs) {
        const d2 = (x - b.x) ** 2 + (y - b.y) ** 2;
        val += b.a * Math.exp(-d2 / (2 * b.r * b.r));
      }
      // rib-like stripes (high frequency content that resamplers treat differently)
      val += 12 * Math.sin(y / 3.1 + 2 * Math.sin(x / 40));
      val += (rand() - 0.5) * 16;
      out[y * size + x] = Math.max(0, Math.min(255, Math.round(val)));
    }
  }
  return out;
}

function noise(size: number, seed: number): Uint8Array {
  const rand = seededRandom(seed);
  return Uint8Array.from({ length: size * size }, () => Math.floor(rand() * 256));
}

interface Diff {
  image: string;
  from: string;
  to: number;
  filter: string;
  max: number;
  mean: number;
}

function diff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; mean: number } {
  let max = 0, sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    sum += d;
    if (d > max) max = d;
  }
  return { max, mean: sum / a.length };
}

/** |sharp − Pillow| for BILINEAR vs sharp 'linear' and LANCZOS vs sharp 'lanczos3'. */
export async function compareResamplers(): Promise<Diff[]> {
  const cases: { image: string; w: number; h: number; data: Uint8Array }[] = [
    { image: 'scan-like 512²', w: 512, h: 512, data: syntheticScan(512, 1) },
    { image: 'scan-like 512² (2)', w: 512, h: 512, data: syntheticScan(512, 2) },
    { image: 'uniform noise 512²', w: 512, h: 512, data: noise(512, 3) },
    { image: 'scan-like 208² (BraTS size)', w: 208, h: 208, data: syntheticScan(208, 4) },
  ];
  const fm = '/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz';
  if (existsSync(fm)) {
    const idx = parseIdx(readFileSync(fm), fm);
    cases.push({ image: 'Fashion-MNIST test[0] 28²', w: 28, h: 28, data: idx.data.slice(0, 784) });
  }
  const out: Diff[] = [];
  for (const c of cases) {
    const targets = c.w === 28 ? [64] : [64, 128, 224];
    for (const to of targets) {
      for (const [filter, kernel] of [['bilinear', 'linear'], ['lanczos', 'lanczos3']] as const) {
        const pil = pilResize(c.data, c.w, c.h, to, to, filter);
        const sh = await sharpResizeImage({ width: c.w, height: c.h, channels: 1, data: c.data }, to, to, kernel);
        out.push({ image: c.image, from: `${c.w}×${c.h}`, to, filter: `${filter} vs sharp ${kernel}`, ...diff(pil, sh.data) });
      }
    }
  }
  return out;
}

export interface Throughput {
  format: string;
  resample: Resample;
  inFlight: number;
  imagesPerSecond: number;
}

/** Decode + preprocess throughput on generated 512² PNG/JPEG files. */
export async function throughput(count: number): Promise<Throughput[]> {
  const dir = mkdtempSync(join(tmpdir(), 'medianomaly-bench-'));
  try {
    const files: Record<string, string[]> = { png: [], jpeg: [] };
    for (let i = 0; i < count; i++) {
      const px = syntheticScan(512, 100 + i);
      const s = sharp(px, { raw: { width: 512, height: 512, channels: 1 } }).toColourspace('b-w');
      const png = join(dir, `${i}.png`);
      const jpg = join(dir, `${i}.jpg`);
      writeFileSync(png, await s.clone().png().toBuffer());
      writeFileSync(jpg, await s.clone().jpeg({ quality: 90 }).toBuffer());
      files.png!.push(png);
      files.jpeg!.push(jpg);
    }
    const results: Throughput[] = [];
    for (const format of ['png', 'jpeg']) {
      for (const resample of ['pil-bilinear', 'sharp'] as Resample[]) {
        for (const inFlight of [1, 8]) {
          const list = files[format]!;
          const run = () =>
            mapLimit(list, inFlight, async (p) => {
              const raw = await decodeImage(readFileSync(p), p);
              return preprocessImage(raw, { size: 64, channels: 1, resample });
            });
          await run(); // warm-up (file cache, JIT, libvips)
          const t0 = performance.now();
          await run();
          const s = (performance.now() - t0) / 1000;
          results.push({ format, resample, inFlight, imagesPerSecond: list.length / s });
        }
      }
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Resize alone (8-bit 512² → 64², already decoded): images/s for the Pillow port and sharp. */
export async function resizeOnly(count: number): Promise<{ resample: string; imagesPerSecond: number }[]> {
  const img = syntheticScan(512, 7);
  const out: { resample: string; imagesPerSecond: number }[] = [];
  for (const [name, fn] of [
    ['pil-bilinear', async () => pilResize(img, 512, 512, 64, 64, 'bilinear')],
    ['pil-lanczos', async () => pilResize(img, 512, 512, 64, 64, 'lanczos')],
    ['sharp linear', () => sharpResizeImage({ width: 512, height: 512, channels: 1, data: img }, 64, 64, 'linear')],
  ] as const) {
    for (let i = 0; i < 5; i++) await fn();
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await fn();
    out.push({ resample: name, imagesPerSecond: count / ((performance.now() - t0) / 1000) });
  }
  return out;
}

async function main() {
  const quick = process.argv.includes('--quick');
  const n = quick ? 16 : 64;
  console.log(`# data pipeline: decode + Pillow L + resize 512→64 + [-1, 1], ${n} images, sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}`);
  console.log('format  resample       in-flight  images/s');
  for (const r of await throughput(n)) {
    console.log(`${r.format.padEnd(7)} ${r.resample.padEnd(14)} ${String(r.inFlight).padStart(9)}  ${r.imagesPerSecond.toFixed(1).padStart(8)}`);
  }
  console.log('\n# resize only, 512² → 64², one at a time');
  for (const r of await resizeOnly(n * 4)) console.log(`${r.resample.padEnd(14)} ${r.imagesPerSecond.toFixed(0).padStart(8)} images/s`);
  console.log('\n# |sharp − Pillow| in grey levels (0–255)');
  console.log('image                          from      to   filter                         max   mean');
  for (const d of await compareResamplers()) {
    console.log(`${d.image.padEnd(30)} ${d.from.padEnd(9)} ${String(d.to).padStart(3)}   ${d.filter.padEnd(28)} ${String(d.max).padStart(5)}  ${d.mean.toFixed(3).padStart(6)}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
