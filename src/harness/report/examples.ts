// Example test images for the report: for one trained run, a few test images with their
// reconstruction (when the method has one), the score map blended over the input, and the
// ground-truth mask outline, as PNG data: URIs.
import type { Split } from '../../data/types.js';
import { loadMethod } from '../../methods/registry.js';
import { loadDataset } from '../train.js';
import { readTrainedRun } from '../run-folder.js';
import { drawOutline, imageToRgb, mapRange, overlay, upscale } from './colormap.js';
import { pngDataUri } from './png.js';

export interface ExamplePanel {
  id: string;
  label: number;
  score: number;
  input: string;
  reconstruction?: string;
  overlay?: string;
}

export interface RunExamples {
  dataset: string;
  method: string;
  /** The colour scale of the overlays (map values). */
  range?: { lo: number; hi: number };
  panels: ExamplePanel[];
  /** Displayed side in pixels. */
  side: number;
  /** Whether the test split has masks (outlines drawn). */
  hasMasks: boolean;
}

/** Evenly spread picks: `k` of `n` positions. */
function spread(n: number, k: number): number[] {
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: k }, (_, j) => Math.floor(((j + 0.5) * n) / k));
}

/** Which test images to show: `abnormal` abnormal ones then `normal` normal ones, spread over the split. */
export function pickExamples(test: Split, abnormal = 4, normal = 2): number[] {
  const ab: number[] = [];
  const no: number[] = [];
  for (let i = 0; i < test.length; i++) (test.labels[i] ? ab : no).push(i);
  return [...spread(ab.length, abnormal).map((j) => ab[j]), ...spread(no.length, normal).map((j) => no[j])];
}

/** The displayed side: the image upscaled by a whole factor to about 100 px. */
export function displayScale(size: number): number {
  return Math.max(1, Math.round(100 / size));
}

/** Renders the examples of a trained run folder. */
export async function runExamples(runDir: string, pick: (test: Split) => number[] = (t) => pickExamples(t)): Promise<RunExamples> {
  const record = readTrainedRun(runDir);
  const method = await loadMethod(runDir);
  const size = typeof method.options.size === 'number' ? method.options.size : (record.dataset.options?.size ?? method.info.defaultSize);
  const data = await loadDataset(record.dataset, size);
  const test = data.test;
  const indices = pick(test);
  const batch = await test.batch(indices);
  const result = await method.score({ n: batch.n, channels: batch.channels, size: batch.size, images: batch.images }, { reconstructions: true });
  const S = test.size;
  const C = test.channels;
  const scale = displayScale(S);
  const side = S * scale;
  const range = result.maps ? mapRange(result.maps) : undefined;
  const panels: ExamplePanel[] = [];
  for (let k = 0; k < batch.n; k++) {
    const image = batch.images.subarray(k * C * S * S, (k + 1) * C * S * S);
    const mask = batch.masks?.subarray(k * S * S, (k + 1) * S * S);
    const base = imageToRgb(image, C, S);
    const input = upscale(base, S, scale);
    if (mask) drawOutline(input, side, mask, S, [0, 255, 0]);
    const panel: ExamplePanel = { id: batch.ids[k], label: batch.labels[k], score: result.scores[k], input: await pngDataUri(input, side) };
    const rec = result.reconstructions?.[k];
    if (rec) panel.reconstruction = await pngDataUri(upscale(imageToRgb(rec, C, S), S, scale), side);
    if (result.maps && range) {
      const ov = upscale(overlay(base, result.maps[k], range), S, scale);
      if (mask) drawOutline(ov, side, mask, S, [255, 255, 255]);
      panel.overlay = await pngDataUri(ov, side);
    }
    panels.push(panel);
  }
  return { dataset: record.dataset.name, method: record.method, range, panels, side, hasMasks: test.hasMasks };
}
