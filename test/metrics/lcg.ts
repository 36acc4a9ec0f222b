// The 32-bit LCG shared with scripts/make-sklearn-fixtures.py (x ← 1664525·x + 1013904223
// mod 2³²). Only exact operations turn draws into scores, so the 10⁵-sample fixture sets
// are re-created bit for bit here and only scikit-learn's answers are stored.

export class Lcg {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (Math.imul(this.state, 1664525) + 1013904223) >>> 0;
    return this.state;
  }
}

/** 256 distinct scores in [0, 1); P(anomalous) = 0.1 + 0.5·score. */
export function lcgTied(seed: number, n: number): { scores: Float64Array; labels: Uint8Array } {
  const g = new Lcg(seed);
  const scores = new Float64Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const s = (g.next() >>> 24) / 256;
    const u = (g.next() >>> 8) / 16777216;
    scores[i] = s;
    labels[i] = u < 0.1 + 0.5 * s ? 1 : 0;
  }
  return { scores, labels };
}

/** Scores a/2³² rounded to float32 (few ties); 5 % anomalous, shifted up by 0.25. */
export function lcgContinuous(seed: number, n: number): { scores: Float32Array; labels: Uint8Array } {
  const g = new Lcg(seed);
  const scores = new Float32Array(n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const a = g.next() / 4294967296;
    const u = (g.next() >>> 8) / 16777216;
    const y = u < 0.05 ? 1 : 0;
    scores[i] = a + 0.25 * y;
    labels[i] = y;
  }
  return { scores, labels };
}

/** Uniform [0, 1) from the LCG, for tests that need many seeded draws. */
export function uniforms(seed: number, n: number): Float64Array {
  const g = new Lcg(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = g.next() / 4294967296;
  return out;
}
