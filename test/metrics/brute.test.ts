// The sort-and-merge implementations against the textbook definitions, computed the slow
// way on many small seeded random sets with heavy ties.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { aupro, auroc, averagePrecision, bestDice, f1Max, labelRegions } from '../../src/metrics/index.js';
import { Lcg } from './lcg.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12, `${what}: ${a} vs ${b}`);

function randomSet(g: Lcg, n: number, levels: number) {
  const scores: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    scores.push(((g.next() >>> 8) % levels) / levels - 0.3);
    labels.push(g.next() >>> 31);
  }
  if (!labels.includes(1)) labels[0] = 1;
  if (!labels.includes(0)) labels[n - 1] = 0;
  return { scores, labels };
}

/** Mann–Whitney: (1/(n₊n₋)) Σ [s_i > s_j] + ½[s_i = s_j]. */
function aurocBrute(s: number[], y: number[]): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < s.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < s.length; j++) {
      if (y[j] !== 0) continue;
      pairs++;
      sum += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
    }
  }
  return sum / pairs;
}

/** At each distinct threshold t (descending), counts of s ≥ t by class. */
function counts(s: number[], y: number[]) {
  const thresholds = [...new Set(s)].sort((a, b) => b - a);
  return thresholds.map((t) => {
    let tp = 0;
    let fp = 0;
    for (let i = 0; i < s.length; i++) if (s[i] >= t) y[i] === 1 ? tp++ : fp++;
    return { t, tp, fp };
  });
}

function apBrute(s: number[], y: number[]): number {
  const P = y.filter((v) => v === 1).length;
  let prevRecall = 0;
  let ap = 0;
  for (const { tp, fp } of counts(s, y)) {
    const recall = tp / P;
    ap += (recall - prevRecall) * (tp / (tp + fp));
    prevRecall = recall;
  }
  return ap;
}

function f1Brute(s: number[], y: number[]): { f1: number; threshold: number } {
  const P = y.filter((v) => v === 1).length;
  let best = { f1: -1, threshold: NaN };
  for (const { t, tp, fp } of counts(s, y)) {
    const f1 = (2 * tp) / (2 * tp + fp + (P - tp));
    if (f1 > best.f1 + 1e-15) best = { f1, threshold: t };
  }
  return best;
}

/** The reference quantile ⌈Dice⌉, literally. */
function diceBrute(s: number[], y: number[], q: number): { dice: number; threshold: number; thresholds: number } {
  const sorted = [...s].sort((a, b) => a - b);
  const step = Math.floor(s.length / q);
  let best = { dice: -1, threshold: NaN };
  let tried = 0;
  for (let k = 0; k < s.length; k += step) {
    tried++;
    const t = sorted[k];
    let inter = 0;
    let pred = 0;
    let gt = 0;
    for (let i = 0; i < s.length; i++) {
      const p = s[i] > t ? 1 : 0;
      inter += p * y[i];
      pred += p;
      gt += y[i];
    }
    const dice = (2 * inter) / (pred + gt);
    if (dice > best.dice) best = { dice, threshold: t };
  }
  return { ...best, thresholds: tried };
}

/** AUPRO by evaluating FPR and PRO directly at every distinct threshold. */
function auproBrute(maps: number[][], masks: number[][], width: number, limit: number): number {
  const regions: { image: number; pixels: number[] }[] = [];
  masks.forEach((m, image) => {
    const { labels, sizes } = labelRegions(m, width, m.length / width);
    sizes.forEach((_, r) => regions.push({ image, pixels: [...labels.keys()].filter((j) => labels[j] === r + 1) }));
  });
  const all = maps.flat();
  const negatives = masks.flat().filter((v) => v === 0).length;
  const pts: [number, number][] = [[0, 0]];
  for (const t of [...new Set(all)].sort((a, b) => b - a)) {
    let fp = 0;
    maps.forEach((m, i) => m.forEach((v, j) => (fp += v >= t && masks[i][j] === 0 ? 1 : 0)));
    let pro = 0;
    for (const r of regions) pro += r.pixels.filter((j) => maps[r.image][j] >= t).length / r.pixels.length;
    pts.push([fp / negatives, pro / regions.length]);
  }
  let area = 0;
  for (let k = 1; k < pts.length; k++) {
    const [x0, y0] = pts[k - 1];
    const [x1, y1] = pts[k];
    if (x0 >= limit) break;
    if (x1 <= limit) area += ((x1 - x0) * (y0 + y1)) / 2;
    else {
      const yl = y0 + ((y1 - y0) * (limit - x0)) / (x1 - x0);
      area += ((limit - x0) * (y0 + yl)) / 2;
    }
  }
  return area / limit;
}

test('AUROC, AP and F1-max equal their definitions on 300 random tied sets', () => {
  const g = new Lcg(2024);
  for (let trial = 0; trial < 300; trial++) {
    const n = 2 + (trial % 40);
    const { scores, labels } = randomSet(g, n, 1 + (trial % 7));
    close(auroc(scores, labels), aurocBrute(scores, labels), `auroc trial ${trial}`);
    close(averagePrecision(scores, labels), apBrute(scores, labels), `ap trial ${trial}`);
    const f = f1Max(scores, labels, { fitOnTest: true });
    const b = f1Brute(scores, labels);
    close(f.f1, b.f1, `f1 trial ${trial}`);
    assert.is(f.threshold, b.threshold, `f1 threshold trial ${trial}`);
  }
});

test('quantile ⌈Dice⌉ equals the literal reference procedure', () => {
  const g = new Lcg(77);
  for (let trial = 0; trial < 120; trial++) {
    const n = 20 + (trial % 60);
    const { scores, labels } = randomSet(g, n, 2 + (trial % 11));
    const q = 1 + (trial % 25);
    const got = bestDice([scores], [labels], { quantiles: q, fitOnTest: true });
    const want = diceBrute(scores, labels, q);
    close(got.dice, want.dice, `dice trial ${trial}`);
    assert.is(got.threshold, want.threshold, `threshold trial ${trial}`);
    assert.is(got.thresholds, want.thresholds, `count trial ${trial}`);
  }
});

test('AUPRO equals a direct per-threshold evaluation', () => {
  const g = new Lcg(5);
  for (let trial = 0; trial < 60; trial++) {
    const w = 3 + (trial % 5);
    const h = 2 + (trial % 4);
    const images = 1 + (trial % 3);
    const maps: number[][] = [];
    const masks: number[][] = [];
    for (let k = 0; k < images; k++) {
      masks.push(Array.from({ length: w * h }, () => ((g.next() >>> 28) < 5 ? 1 : 0)));
      maps.push(Array.from({ length: w * h }, () => ((g.next() >>> 8) % 6) / 5));
    }
    const flat = masks.flat();
    if (!flat.includes(1)) masks[0][0] = 1;
    if (!flat.includes(0)) masks[0][1] = 0;
    for (const limit of [0.05, 0.3, 1]) {
      close(aupro(maps, masks, { fprLimit: limit, width: w }), auproBrute(maps, masks, w, limit), `aupro trial ${trial} limit ${limit}`);
    }
  }
});

test.run();
