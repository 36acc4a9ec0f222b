// Symmetric eigendecomposition in float64 (Householder tridiagonalisation, then the
// implicit QL algorithm with Wilkinson-like shifts: the EISPACK tred2/tql2 pair, as in the
// public-domain JAMA library), and the pseudo-inverse of a symmetric matrix built on it
// (SciPy's `pinvh`, which scikit-learn uses for the precision of a covariance estimate).

/**
 * Eigenvalues (ascending) and eigenvectors of the symmetric n×n matrix `a` (row-major; only
 * the values are read, not modified). vectors[i·n + k] is component i of eigenvector k.
 */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  if (a.length !== n * n) throw new RangeError(`symmetricEigen: the matrix must hold ${n}×${n} values, got ${a.length}`);
  const V = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return { values: d, vectors: V };
  tred2(n, V, d, e);
  // tql2 rotates pairs of columns of V: it works on the transpose, whose rows are contiguous.
  const W = transpose(V, n);
  tql2(n, W, d, e);
  return { values: d, vectors: transpose(W, n) };
}

function transpose(a: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = a[i * n + j];
  return t;
}

/** Householder reduction to tridiagonal form (V holds the transformation on return). */
function tred2(n: number, V: Float64Array, d: Float64Array, e: Float64Array): void {
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        V[j * n + i] = f;
        g = e[j] + V[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j] * d[k];
          e[k] += V[k * n + j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) V[k * n + j] -= f * e[k] + g * d[k];
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i];
    V[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1] * V[k * n + j];
        for (let k = 0; k <= i; k++) V[k * n + j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[(n - 1) * n + j];
    V[(n - 1) * n + j] = 0;
  }
  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/**
 * Implicit QL on the tridiagonal (d, e); eigenvalues sorted ascending with their vectors.
 * W is the transpose of the accumulated transformation: row k of W is column k of V.
 */
function tql2(n: number, W: Float64Array, d: Float64Array, e: Float64Array): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m === n) m = n - 1; // e[n − 1] is 0: the loop above always stops by then
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 64) throw new Error('symmetricEigen: the QL iteration did not converge (the matrix holds NaN or Inf?)');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          const ri = i * n;
          const ri1 = ri + n;
          for (let k = 0; k < n; k++) {
            h = W[ri1 + k];
            W[ri1 + k] = s * W[ri + k] + c * h;
            W[ri + k] = c * W[ri + k] - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] = d[l] + f;
    e[l] = 0;
  }
  // Selection sort, ascending, moving the vectors along.
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i];
    for (let j = i + 1; j < n; j++) {
      if (d[j] < p) {
        k = j;
        p = d[j];
      }
    }
    if (k !== i) {
      d[k] = d[i];
      d[i] = p;
      for (let j = 0; j < n; j++) {
        const t = W[i * n + j];
        W[i * n + j] = W[k * n + j];
        W[k * n + j] = t;
      }
    }
  }
}

/**
 * Pseudo-inverse of a symmetric matrix, as SciPy's `pinvh` with its defaults: eigenvalues s
 * with |s| ≤ n·ε·max|s| (ε = 2⁻⁵²) are dropped, the rest inverted: B = U·diag(1/s)·Uᵀ.
 * Equals the inverse for a well-conditioned positive-definite matrix.
 */
export function pinvSymmetric(a: Float64Array, n: number): Float64Array {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new RangeError(`pinvSymmetric: the matrix holds a non-finite value at [${Math.floor(i / n)}, ${i % n}]`);
  }
  const { values, vectors } = symmetricEigen(a, n);
  let maxS = 0;
  for (const s of values) maxS = Math.max(maxS, Math.abs(s));
  const cutoff = maxS * n * 2 ** -52;
  const keep: number[] = [];
  for (let k = 0; k < n; k++) if (Math.abs(values[k]) > cutoff) keep.push(k);
  // B[i][j] = Σ_k U[i][k]·U[j][k]/s_k, over kept k (rows of the scaled vectors, then a product).
  const m = keep.length;
  const U = new Float64Array(n * m);
  const Us = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < m; t++) {
      const k = keep[t];
      U[i * m + t] = vectors[i * n + k];
      Us[i * m + t] = vectors[i * n + k] / values[k];
    }
  }
  const B = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let t = 0; t < m; t++) s += Us[i * m + t] * U[j * m + t];
      B[i * n + j] = s;
      B[j * n + i] = s;
    }
  }
  return B;
}
