// Writes a contact sheet of a synthetic dataset: rows of normal images, then the
// same abnormal items at each difficulty (easy, medium, hard) with their lesion
// masks outlined in red. Used to check by eye that the images look like what they
// imitate; the sheets in docs/images/ come from here.
//
//   node --import tsx scripts/contact-sheet.ts [--name synth-brain|synth-cxr|all]
//        [--size 64] [--seed 0] [--cols 8] [--normal-rows 2] [--scale 2] [--out FILE]

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { DIFFICULTY_LEVELS, renderItem, SYNTHETIC_NAMES, type SyntheticName } from '../src/data/synthetic/index.js';

interface Args {
  name: string;
  size: number;
  seed: number;
  cols: number;
  normalRows: number;
  scale: number;
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { name: 'all', size: 64, seed: 0, cols: 8, normalRows: 2, scale: 2 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`contact-sheet: ${key} needs a value`);
    const int = (): number => {
      const v = Number(value);
      if (!Number.isInteger(v) || v < 0) throw new Error(`contact-sheet: ${key} must be a non-negative integer, got ${value}`);
      return v;
    };
    if (key === '--name') a.name = value;
    else if (key === '--size') a.size = int();
    else if (key === '--seed') a.seed = int();
    else if (key === '--cols') a.cols = int();
    else if (key === '--normal-rows') a.normalRows = int();
    else if (key === '--scale') a.scale = int();
    else if (key === '--out') a.out = value;
    else throw new Error(`contact-sheet: unknown option ${key}; see the comment at the top of scripts/contact-sheet.ts`);
  }
  return a;
}

const GAP = 2; // pixels between tiles (before scaling)

async function sheet(name: SyntheticName, a: Args, out: string): Promise<void> {
  const S = a.size;
  const levels = Object.entries(DIFFICULTY_LEVELS);
  const rows = a.normalRows + levels.length;
  const W = a.cols * (S + GAP) - GAP;
  const H = rows * (S + GAP) - GAP + GAP * 2; // an extra band between normals and abnormals
  const rgb = Buffer.alloc(W * H * 3, 40);
  const put = (row: number, col: number, image: Float32Array, mask: Uint8Array | null): void => {
    const ox = col * (S + GAP);
    const oy = row * (S + GAP) + (row >= a.normalRows ? 2 * GAP : 0);
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < S; j++) {
        const p = i * S + j;
        const o = ((oy + i) * W + ox + j) * 3;
        const g = Math.round((image[p]! + 1) * 127.5);
        rgb[o] = g;
        rgb[o + 1] = g;
        rgb[o + 2] = g;
        // Outline: mask pixels with a 4-neighbour outside the mask.
        if (mask && mask[p] && (i === 0 || j === 0 || i === S - 1 || j === S - 1 || !mask[p - 1] || !mask[p + 1] || !mask[p - S] || !mask[p + S])) {
          rgb[o] = 255;
          rgb[o + 1] = 0;
          rgb[o + 2] = 0;
        }
      }
    }
  };
  let k = 0;
  for (let r = 0; r < a.normalRows; r++) {
    for (let c = 0; c < a.cols; c++) put(r, c, renderItem(name, a.seed, 'test-normal', k++, S, 0).image, null);
  }
  levels.forEach(([, d], l) => {
    for (let c = 0; c < a.cols; c++) {
      const item = renderItem(name, a.seed, 'test-abnormal', c, S, d);
      put(a.normalRows + l, c, item.image, item.mask);
    }
  });
  mkdirSync(dirname(out), { recursive: true });
  await sharp(rgb, { raw: { width: W, height: H, channels: 3 } })
    .resize(W * a.scale, H * a.scale, { kernel: 'nearest' })
    .png({ compressionLevel: 9, palette: true, colours: 256, dither: 0 })
    .toFile(out);
  console.log(`${out}: ${a.normalRows} rows of normals, then abnormals at ${levels.map(([n]) => n).join(', ')}`);
}

const args = parseArgs(process.argv.slice(2));
const names = args.name === 'all' ? [...SYNTHETIC_NAMES] : [args.name];
for (const name of names) {
  if (!(SYNTHETIC_NAMES as readonly string[]).includes(name)) {
    throw new Error(`contact-sheet: unknown dataset '${name}'; use one of ${SYNTHETIC_NAMES.join(', ')} or all`);
  }
  await sheet(name as SyntheticName, args, args.out && names.length === 1 ? args.out : `docs/images/${name}.png`);
}
