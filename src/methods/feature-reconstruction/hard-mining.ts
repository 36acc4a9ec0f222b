// ReContrast's loss: the global cosine distance with hard mining (guojiajeremy/ReContrast
// `utils.py global_cosine_hm`, Guo et al., NeurIPS 2023).
//
// For each level k, teacher a_k (no gradient) and student b_k:
//   term_k = mean over the batch of 1 − cos(vec a_k[b], vec b_k[b])   (one vector per sample)
// and the student's gradient is masked: with the pixel cosine distance p = 1 − cos over
// channels ([B, 1, H, W], no gradient), its mean μ and unbiased standard deviation σ over all
// B·H·W values, every position with p < μ + α·σ passes no gradient to b_k (all channels).
// Only the hardest-to-reconstruct positions train the network; the loss value itself is the
// plain global cosine. The official code does this with a backward hook on b_k that
// multiplies the gradient by 0 there; maskGradient is that hook as an op of its own.
//
// α rises linearly from −3 (almost every position trains) to 1 over the first 10 % of the
// iterations and stays there: α(it) = min(−3 + 4·it / (0.1·total), 1), `it` counting
// iterations from 0 over the whole run.
import { mean, mul, noGrad, record, Tensor } from '../../engine/index.js';
import { globalCosineDistance, pixelCosineDistance } from './cosine.js';

export const ALPHA_START = -3;
export const ALPHA_END = 1;
/** Fraction of the run over which α rises (the official MVTec, OCT2017, APTOS and ISIC2018 scripts). */
export const ALPHA_WARMUP = 0.1;

/** α at 0-based iteration `it` of a run of `total` iterations. */
export function hardMiningAlpha(it: number, total: number, warmup = ALPHA_WARMUP): number {
  if (!(total > 0) || !(warmup > 0)) throw new RangeError(`hardMiningAlpha: total and warmup must be > 0, got ${total}, ${warmup}`);
  return Math.min(ALPHA_START + ((ALPHA_END - ALPHA_START) * it) / (total * warmup), ALPHA_END);
}

export interface HardMiningMask {
  /** [B, 1, H, W]: 1 where the gradient passes (p ≥ threshold), 0 where it is removed. */
  mask: Tensor;
  /** μ + α·σ, as float32 arithmetic on float32 μ and σ (PyTorch's tensor ops). */
  threshold: number;
  /** Positions that keep their gradient. */
  kept: number;
}

/** The mask of one level from its pixel cosine distance map p [B, 1, H, W]. */
export function hardMiningMask(p: Tensor, alpha: number): HardMiningMask {
  const d = p.data;
  const n = d.length;
  if (n < 2) throw new RangeError(`hardMiningMask: the distance map has ${n} value(s); the unbiased standard deviation needs 2`);
  let s = 0;
  for (let i = 0; i < n; i++) s += d[i];
  const mu = s / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (d[i] - mu) * (d[i] - mu);
  const sigma = Math.sqrt(ss / (n - 1));
  const threshold = Math.fround(Math.fround(mu) + Math.fround(Math.fround(sigma) * Math.fround(alpha)));
  const m = new Float32Array(n);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    if (!(d[i] < threshold)) {
      m[i] = 1;
      kept++;
    }
  }
  return { mask: Tensor.fromData(m, p.shape), threshold, kept };
}

/** x unchanged; its gradient multiplied by `mask` (broadcast over x's channels). */
export function maskGradient(x: Tensor, mask: Tensor): Tensor {
  const out = noGrad(() => Tensor.fromData(x.data.slice(), x.shape));
  return record(out, 'maskGradient', [x], (g) => [mul(g, mask)]);
}

export interface HardMiningLoss {
  /** Σ_k mean_b (1 − cos(vec a_k, vec b_k)). */
  loss: Tensor;
  /** Per level: positions whose gradient is kept, and all positions. */
  kept: number[];
  positions: number[];
}

/** global_cosine_hm over the levels' (teacher, student) pairs; teachers are detached. */
export function globalCosineHardMining(pairs: readonly (readonly [Tensor, Tensor])[], alpha: number): HardMiningLoss {
  let loss: Tensor | null = null;
  const kept: number[] = [];
  const positions: number[] = [];
  for (const [a0, b] of pairs) {
    const a = a0.detach();
    const p = noGrad(() => pixelCosineDistance(a, b));
    const hm = hardMiningMask(p, alpha);
    kept.push(hm.kept);
    positions.push(p.size);
    const term = mean(globalCosineDistance(a, maskGradient(b, hm.mask)));
    loss = loss ? loss.add(term) : term;
  }
  if (!loss) throw new RangeError('globalCosineHardMining: no pairs');
  return { loss, kept, positions };
}
