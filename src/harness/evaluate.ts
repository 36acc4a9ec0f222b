// Test-set evaluation: score every test image with a trained method and turn the scores
// (and pixel maps, where the method has them and the test split has masks) into the
// metrics object a run stores in metrics.json.
//
// Image level: AUROC and AP (the reported metrics, methods.md §9.1) plus F1-max and its
// threshold. Pixel level: pooled AUROC, AP_pix, ⌈Dice⌉ (the reference's 200-quantile
// procedure; a method's PixelProtocol may ask for another count and for a zoom of maps and
// masks first: the one-stage SSL methods, 100 quantiles at 64 px) and AUPRO at FPR ≤ 0.3. F1-max and ⌈Dice⌉ fit their thresholds on the test
// set: they are upper bounds, and metrics.json says so in `oracle`.
import type { Split } from '../data/types.js';
import type { Method, PixelProtocol, ScoreProgress, ScoreResult } from '../methods/types.js';
import { auroc, averagePrecision, bestDice, f1Max, pixelMetrics, aupro, zoom2d } from '../metrics/index.js';

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
  /** ⌈Dice⌉'s threshold grid: the reference's 200 quantiles (one-stage SSL 100), or every distinct score when there are fewer pixels than quantiles. */
  diceThresholds: number | 'all';
  /**
   * The side ⌈Dice⌉ was computed at: `size`, or the side the maps (cubic spline) and masks
   * (nearest) were zoomed to first (one-stage SSL: 64, quirk sslDiceZoom64). Absent in
   * metrics.json files written before it existed: `size`.
   */
  diceSize?: number;
}

/** ⌈Dice⌉ thresholds of the reconstruction sub-project (methods.md §9.3); a method's PixelProtocol may say otherwise. */
const DICE_QUANTILES = 200;

/** What metrics.json holds. */
export interface RunMetrics {
  image: ImageMetricsRecord;
  pixel?: PixelMetricsRecord;
  counts: { normal: number; abnormal: number };
  /** Metrics whose threshold was fitted on the test set (upper bounds). */
  oracle: string[];
}

/**
 * The metrics of scores (and maps) against a test split's labels (and masks); `protocol`:
 * the method's pixel-metric protocol (Method.pixelProtocol), default the reconstruction one.
 */
export async function metricsOf(result: ScoreResult, test: Split, protocol: PixelProtocol = {}): Promise<RunMetrics> {
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
      const q = protocol.diceQuantiles ?? DICE_QUANTILES;
      const zoom = protocol.diceZoom ?? null;
      if (!Number.isInteger(q) || q < 1) throw new RangeError(`evaluate: the method's diceQuantiles must be a positive integer, got ${q}`);
      if (zoom !== null && (!Number.isInteger(zoom) || zoom < 1)) throw new RangeError(`evaluate: the method's diceZoom must be a positive integer or null, got ${zoom}`);
      const diceSize = zoom ?? test.size;
      // The reference grid needs at least as many pixels as quantiles; tiny test sets get the exact sweep.
      const quantiles = maps.length * diceSize * diceSize >= q ? q : 'all';
      const pm = pixelMetrics(maps, masks, zoom === null ? { bestDice: { quantiles }, fitOnTest: true } : { fitOnTest: true });
      let dice = pm.bestDice;
      if (zoom !== null) {
        // One-stage SSL (§9.4): maps by SciPy's cubic zoom, masks by its order-0 zoom, then ⌈Dice⌉.
        const s = test.size;
        const zm = maps.map((m) => zoom2d(m, s, s, zoom, zoom, 3));
        const zk = masks.map((k) => zoom2d(k, s, s, zoom, zoom, 0)); // masks are 0/1
        dice = bestDice(zm, zk, { quantiles, fitOnTest: true });
      }
      pixel = {
        auroc: pm.auroc,
        ap: pm.ap,
        bestDice: dice!.dice,
        bestDiceThreshold: dice!.threshold,
        aupro: aupro(maps, masks),
        size: test.size,
        diceThresholds: quantiles,
        diceSize,
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
  return { result, metrics: await metricsOf(result, test, method.pixelProtocol?.() ?? {}) };
}

/** The metrics object of `method` on `test` (what metrics.json holds). */
export async function evaluate(method: Method, test: Split): Promise<RunMetrics> {
  return (await scoreAndEvaluate(method, test)).metrics;
}
