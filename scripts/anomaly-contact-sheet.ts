// Contact sheets of the synthetic-anomaly generators (src/anomalies/): for each family, a few
// seeded examples on synth-brain and synth-cxr, each shown as the image and its label side by
// side (label in grey 0–1 → black–white, with the changed pixels outlined in red on the image).
// The sheets in docs/images/anomalies-*.png come from here.
//
//   node --import tsx scripts/anomaly-contact-sheet.ts [--size 128] [--seed 0] [--count 4] [--out-dir docs/images]

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { renderItem, type SyntheticName } from '../src/data/synthetic/index.js';
import { patchEx, patchExPresets } from '../src/anomalies/patch-ex.js';
import { normal, scar } from '../src/anomalies/cutpaste.js';
import { anatpaste } from '../src/anomalies/anatpaste.js';
import { draem } from '../src/anomalies/draem.js';
import { toRgb, type PixelImage, type SyntheticAnomaly } from '../src/anomalies/image.js';
import { Generator } from '../src/engine/random.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!, process.argv[i + 1] ?? '');
for (const k of args.keys()) if (!['--size', '--seed', '--count', '--out-dir'].includes(k)) throw new Error(`anomaly-contact-sheet: unknown option ${k}; see the comment at the top of the script`);
const S = Number(args.get('--size') ?? 128);
const seed = Number(args.get('--seed') ?? 0);
const count = Number(args.get('--count') ?? 4);
const outDir = args.get('--out-dir') ?? 'docs/images';

function grey(name: SyntheticName, index: number): PixelImage & { data: Uint8Array } {
  const r = renderItem(name, seed, 'train', index, S, 0);
  const d = new Uint8Array(S * S);
  for (let i = 0; i < d.length; i++) d[i] = Math.max(0, Math.min(255, Math.round((r.image[i]! + 1) * 127.5)));
  return { width: S, height: S, channels: 1, data: d };
}

type Gen = (name: SyntheticName, k: number) => { before: PixelImage; after: SyntheticAnomaly };
const families: Record<string, { title: string; rows: Array<[string, Gen]> }> = {
  'patch-ex': {
    title: 'patchEx',
    rows: (['cutpaste', 'fpi', 'pii', 'nsa'] as const).map((p) => [
      p,
      (name, k) => {
        const before = grey(name, k);
        return { before, after: patchEx(before, grey(name, k + 100), patchExPresets[p], new Generator(seed * 1000 + k)) };
      },
    ]),
  },
  cutpaste: {
    title: 'CutPaste two-stage',
    rows: [
      ['normal', (name, k) => { const before = toRgb(grey(name, k)); return { before, after: normal(before, new Generator(seed * 1000 + k)) }; }],
      ['scar', (name, k) => { const before = toRgb(grey(name, k)); return { before, after: scar(before, new Generator(seed * 1000 + k)) }; }],
    ],
  },
  anatpaste: {
    title: 'AnatPaste',
    rows: [['anatpaste', (name, k) => { const before = toRgb(grey(name, k)); return { before, after: anatpaste(before, new Generator(seed * 1000 + k)) }; }]],
  },
  draem: {
    title: 'DRAEM',
    rows: [['draem (self)', (name, k) => { const before = toRgb(grey(name, k)); return { before, after: draem(before, new Generator(seed * 1000 + k), { source: 'self' }) }; }]],
  },
};

const GAP = 4;
async function sheet(key: string): Promise<void> {
  const fam = families[key]!;
  const names: SyntheticName[] = ['synth-brain', 'synth-cxr'];
  const rows = fam.rows.length * names.length;
  const cols = count * 2; // image, label
  const W = cols * S + (cols - 1) * GAP + (count - 1) * GAP;
  const H = rows * S + (rows - 1) * GAP;
  const rgb = Buffer.alloc(W * H * 3, 40);
  let row = 0;
  for (const [, gen] of fam.rows) {
    for (const name of names) {
      for (let k = 0; k < count; k++) {
        const { before, after } = gen(name, k);
        const img = after.image;
        const ox = k * (2 * S + 2 * GAP);
        const oy = row * (S + GAP);
        const scale = img.data instanceof Float32Array ? 255 : 1;
        for (let y = 0; y < S; y++)
          for (let x = 0; x < S; x++) {
            const p = y * S + x;
            const o = ((oy + y) * W + ox + x) * 3;
            let diff = 0;
            for (let c = 0; c < img.channels; c++) {
              const v = img.data[p * img.channels + c]! * scale;
              rgb[o + (img.channels === 1 ? 0 : c)] = v;
              if (img.channels === 1) rgb[o + 1] = rgb[o + 2] = v;
              diff += Math.abs(v - before.data[p * before.channels + c]! * scale);
            }
            // outline of the changed region
            const ch = (q: number): boolean => {
              let d = 0;
              for (let c = 0; c < img.channels; c++) d += Math.abs(img.data[q * img.channels + c]! - before.data[q * before.channels + c]!) * scale;
              return d / img.channels > 1;
            };
            if (diff / img.channels > 1 && (x === 0 || y === 0 || x === S - 1 || y === S - 1 || !ch(p - 1) || !ch(p + 1) || !ch(p - S) || !ch(p + S))) {
              rgb[o] = 255;
              rgb[o + 1] = 0;
              rgb[o + 2] = 0;
            }
            const l = Math.round(Math.min(1, Math.max(0, after.label[p]!)) * 255);
            const lo = ((oy + y) * W + ox + S + GAP + x) * 3;
            rgb[lo] = rgb[lo + 1] = rgb[lo + 2] = l;
          }
      }
      row++;
    }
  }
  const out = join(outDir, `anomalies-${key}.png`);
  mkdirSync(outDir, { recursive: true });
  await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).png({ compressionLevel: 9, palette: true, colours: 64 }).toFile(out);
  console.log(`${out}: ${fam.title}, rows ${fam.rows.map(([n]) => n).join(', ')} × (synth-brain, synth-cxr), ${count} examples of (image, label)`);
}

for (const key of Object.keys(families)) await sheet(key);
