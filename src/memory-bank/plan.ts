// The memory plan of a memory bank (REQ-MEM): what a bank of `vectors` × `dim` values
// takes before and after the coreset, and a refusal naming the setting that fits when the
// plan exceeds the budget, computed before anything is allocated.

export interface MemoryBankPlanInput {
  /** Patch vectors before the coreset (images × patches per image). */
  vectors: number;
  dim: number;
  /** 4 for float32 (default), 2 for a float16 bank. */
  bytesPerValue?: 2 | 4;
  /** Fraction kept by the coreset, in (0, 1]; 1 (default) = no coreset. */
  coresetRatio?: number;
  /** The coreset's projection dimension d′ (default 128). */
  projectionDim?: number;
  /** Storage of the coreset's projected points (default 'float16', as coreset() uses). */
  coresetPrecision?: 'float16' | 'float32';
  budgetBytes: number;
}

export interface MemoryBankPlan {
  fullBankBytes: number;
  /** The coreset's projected points and per-point distances (0 without a coreset). */
  coresetBytes: number;
  keptVectors: number;
  keptBankBytes: number;
  /** Full bank + coreset working memory + kept bank (all alive at the end of a coreset). */
  peakBytes: number;
  budgetBytes: number;
  fits: boolean;
  /** Why it does not fit and the settings that would, or null when it fits. */
  refusal: string | null;
}

export function formatBytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(2)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(1)} MiB`;
  if (b >= 2 ** 10) return `${(b / 2 ** 10).toFixed(1)} KiB`;
  return `${b} B`;
}

function sizes(vectors: number, dim: number, bpv: number, ratio: number, e: number, half: boolean) {
  const full = vectors * dim * bpv;
  const coresetOn = ratio < 1;
  // float16: a half copy of the projected points (always); float32: the projection (none when d′ = d).
  const pointBytes = half ? e * 2 : e !== dim ? e * 4 : 0;
  const coresetBytes = coresetOn ? vectors * (pointBytes + 4) : 0;
  const kept = coresetOn ? Math.max(1, Math.floor(vectors * ratio)) : vectors;
  const keptBank = coresetOn ? kept * dim * bpv + kept * 4 : 0; // the index stores the bank's type + one norm per vector
  return { full, coresetBytes, kept, keptBank, peak: full + coresetBytes + keptBank };
}

/** The bytes a memory bank needs and whether they fit `budgetBytes`, with the settings that would. */
export function planMemoryBank(input: MemoryBankPlanInput): MemoryBankPlan {
  const op = 'planMemoryBank';
  const { vectors, dim, budgetBytes } = input;
  const bpv = input.bytesPerValue ?? 4;
  const ratio = input.coresetRatio ?? 1;
  const e = input.projectionDim ?? 128;
  const cp = input.coresetPrecision ?? 'float16';
  if (cp !== 'float16' && cp !== 'float32') throw new RangeError(`${op}: coresetPrecision must be 'float16' or 'float32', got ${String(cp)}`);
  const hp = cp === 'float16';
  if (!Number.isInteger(vectors) || vectors < 0) throw new RangeError(`${op}: vectors must be an integer ≥ 0, got ${vectors}`);
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`${op}: dim must be an integer ≥ 1, got ${dim}`);
  if (bpv !== 2 && bpv !== 4) throw new RangeError(`${op}: bytesPerValue must be 2 (float16) or 4 (float32), got ${bpv}`);
  if (!(ratio > 0 && ratio <= 1)) throw new RangeError(`${op}: coresetRatio must be in (0, 1], got ${ratio}`);
  if (!Number.isInteger(e) || e < 1) throw new RangeError(`${op}: projectionDim must be an integer ≥ 1, got ${e}`);
  if (!(budgetBytes > 0)) throw new RangeError(`${op}: budgetBytes must be > 0, got ${budgetBytes}`);
  const s = sizes(vectors, dim, bpv, ratio, e, hp);
  const plan: MemoryBankPlan = {
    fullBankBytes: s.full,
    coresetBytes: s.coresetBytes,
    keptVectors: s.kept,
    keptBankBytes: s.keptBank,
    peakBytes: s.peak,
    budgetBytes,
    fits: s.peak <= budgetBytes,
    refusal: null,
  };
  if (plan.fits) return plan;

  const fixes: string[] = [];
  // A smaller ratio shrinks the kept bank only; the full bank and the projection stay.
  for (const r of [0.1, 0.05, 0.01, 0.005, 0.001]) {
    if (r >= ratio) continue;
    if (sizes(vectors, dim, bpv, r, e, hp).peak <= budgetBytes) {
      fixes.push(`coreset ratio ${r} (peak ${formatBytes(sizes(vectors, dim, bpv, r, e, hp).peak)})`);
      break;
    }
  }
  if (bpv === 4) {
    const half = sizes(vectors, dim, 2, ratio, e, hp);
    if (half.peak <= budgetBytes) fixes.push(`a float16 bank (peak ${formatBytes(half.peak)})`);
    else {
      for (const r of [0.1, 0.05, 0.01, 0.005, 0.001]) {
        if (r >= ratio) continue;
        const h = sizes(vectors, dim, 2, r, e, hp);
        if (h.peak <= budgetBytes) {
          fixes.push(`a float16 bank with coreset ratio ${r} (peak ${formatBytes(h.peak)})`);
          break;
        }
      }
    }
  }
  // Fewer training vectors (images): the largest count that fits with the current settings.
  let lo = 0;
  let hi = vectors;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (sizes(mid, dim, bpv, ratio, e, hp).peak <= budgetBytes) lo = mid;
    else hi = mid - 1;
  }
  if (lo > 0) fixes.push(`at most ${lo} patch vectors (${((lo / vectors) * 100).toFixed(1)} % of the training patches)`);
  plan.refusal =
    `the memory bank needs ${formatBytes(s.peak)} at its peak (${vectors} vectors × ${dim} values × ${bpv} B = ${formatBytes(s.full)}` +
    (ratio < 1 ? `, + ${formatBytes(s.coresetBytes)} coreset projection and distances, + ${formatBytes(s.keptBank)} kept bank` : '') +
    `), more than the budget of ${formatBytes(budgetBytes)}; ` +
    (fixes.length ? `settings that fit: ${fixes.join('; or ')}` : 'no coreset ratio or storage option fits: raise the budget');
  return plan;
}
