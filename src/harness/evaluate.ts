// Test-set evaluation: score every test image with a trained method and turn the scores
// (and pixel maps, where the method has them and the test split has masks) into the
// metrics object a run stores in metrics.json.
//
// Image level: AUROC and AP (the reported metrics, methods.md §9.1) plus F1-max and its
// threshold. Pixel level: pooled AUROC, AP_pix, ⌈Dice⌉ (the reference's 200-quantile
// procedure) and AUPRO at FPR ≤ 0.3. F1-max and ⌈Dice⌉ fit their thresholds on the test
// set: they are upper bounds, and metrics.json says so in `oracle`.
import type { Split } from '../data/types.js';
import type { Method, ScoreProgress, ScoreResult } from '../methods/types.js';
import { auroc, averagePrecision, f1Max, pixelMetrics, aupro } from '../metrics/index.js';

export interface ImageMetricsRecord {
  auroc: number;
  ap: number;
  f1max: number;
  f1maxThreshold: number;
}

export interface PixelMetricsRecord {
  auroc: number;
  ap: number;
  bestDice: number;
  bestDiceThreshold: number;
  aupro: number;
  /** The side of the maps and masks the pixel metrics were computed at (§9.4). */
  size: number;
  /** ⌈Dice⌉'s threshold grid: the reference's 200 quantiles, or every distinct score when there are fewer than 200 pixels. */
  diceThresholds: number | 'all';
}

/** ⌈Dice⌉ thresholds of the reconstruction sub-project (methods.md §9.3). */
const DICE_QUANTILES = 200;

/** What metrics.json holds. */
export interface RunMetrics {
  image: ImageMetricsRecord;
  pixel?: PixelMetricsRecord;
  counts: { normal: number; abnormal: number };
  /** Metrics whose threshold was fitted on the test set (upper bounds). */
  oracle: string[];
}

/** The metrics of scores (and maps) against a test split's labels (and masks). */
export async function metricsOf(result: ScoreResult, test: Split): Promise<RunMetrics> {
  const labels = test.labels;
  if (result.scores.length !== labels.length) {
    throw new RangeError(`evaluate: the method returned ${result.scores.length} scores for ${labels.length} test images`);
  }
  const f1 = f1Max(result.scores, labels, { fitOnTest: true });
  const image = { auroc: auroc(result.scores, labels), ap: averagePrecision(result.scores, labels), f1max: f1.f1, f1maxThreshold: f1.threshold };
  let pixel: PixelMetricsRecord | undefined;
  if (test.hasMasks && result.maps) {
    const all = await test.masks();
    if (all) {
      const px = test.size * test.size;
      const masks = Array.from({ length: test.length }, (_, i) => all.subarray(i * px, (i + 1) * px));
      const maps = result.maps;
      if (maps.length !== masks.length || maps.some((m) => m.length !== px)) {
        throw new RangeError(`evaluate: the method's maps are not ${test.length} maps of ${test.size} × ${test.size}`);
      }
      // The reference grid needs at least as many pixels as quantiles; tiny test sets get the exact sweep.
      const quantiles = maps.length * px >= DICE_QUANTILES ? DICE_QUANTILES : 'all';
      const pm = pixelMetrics(maps, masks, { bestDice: { quantiles }, fitOnTest: true });
      pixel = {
        auroc: pm.auroc,
        ap: pm.ap,
        bestDice: pm.bestDice!.dice,
        bestDiceThreshold: pm.bestDice!.threshold,
        aupro: aupro(maps, masks),
        size: test.size,
        diceThresholds: quantiles,
      };
    }
  }
  return {
    image,
    ...(pixel ? { pixel } : {}),
    counts: { normal: test.counts.normal, abnormal: test.counts.abnormal },
    oracle: pixel ? ['image.f1max', 'pixel.bestDice'] : ['image.f1max'],
  };
}

/** Scores the test split with `method` and returns the scores with their metrics. */
export async function scoreAndEvaluate(method: Method, test: Split, onProgress?: (p: ScoreProgress) => void): Promise<{ result: ScoreResult; metrics: RunMetrics }> {
  const result = await method.score(test, onProgress ? { onProgress } : {});
  return { result, metrics: await metricsOf(result, test) };
}

/** The metrics object of `method` on `test` (what metrics.json holds). */
export async function evaluate(method: Method, test: Split): Promise<RunMetrics> {
  return (await scoreAndEvaluate(method, test)).metrics;
}
