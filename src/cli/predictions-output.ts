// How `predict` prints its results: an aligned table for people, CSV or JSON for programs.
// Whatever the format, stdout holds only the results; warnings and notes also go to
// stderr, so an image that looks unlike the training images is never passed over silently.
import type { PredictResult } from '../harness/predict.js';
import { csvText } from './csv.js';
import { textTable } from './table.js';

export const FORMATS = ['table', 'csv', 'json'] as const;
export type Format = (typeof FORMATS)[number];

export function formatPredictions(r: PredictResult, format: Format): string {
  if (format === 'json') return JSON.stringify(r, null, 2) + '\n';
  if (format === 'csv') {
    const t = r.threshold?.value ?? null;
    return csvText(
      ['image', 'score', 'decision', 'threshold', 'warning', 'overlay'],
      r.predictions.map((p) => [p.path, p.score, p.decision, t, p.warning, p.overlay ?? null]),
    );
  }
  const rows = r.predictions.map((p) => [p.path, p.score.toPrecision(5), p.decision ?? '-', p.overlay ?? '(no pixel map)', p.warning ?? '']);
  const lines = [textTable(['image', 'score', 'decision', 'overlay', 'warning'], rows, [1]), ''];
  if (r.threshold) lines.push(`abnormal = score ≥ ${r.threshold.value.toPrecision(5)} (${r.threshold.description})`);
  if (r.mapScale?.fixed) {
    lines.push(`overlay colours span map values ${r.mapScale.lo.toPrecision(3)} (blue) to ${r.mapScale.hi.toPrecision(3)} (red), fixed for this run; each PNG has a colour bar`);
  } else if (r.mapScale) {
    lines.push("overlay colours span each image's own map range (see each PNG's colour bar)");
  }
  return lines.join('\n') + '\n';
}

/** Lines for stderr: notes, and a count of images with warnings. */
export function predictionNotices(r: PredictResult): string[] {
  const out = [...r.notes];
  const warned = r.predictions.filter((p) => p.warning).length;
  if (warned) out.push(`warning: ${warned} of ${r.predictions.length} images look unlike the training images (see the warning column or field); their scores may mean nothing`);
  return out;
}
