// The kernel table: the one contract between the engine and every backend.
//
// The engine (src/engine) validates arguments, infers shapes, resolves padding and
// strides into plain integers and allocates outputs. A kernel receives
// (params, inputs..., outputs...) and only does arithmetic: it never allocates its
// outputs, never infers a shape, never throws for a shape the engine accepted.
// Every array is dense, row-major (NCHW for images) and starts at its own index 0
// (subarray views are fine: native code honours byteOffset).
//
// The `ts` backend implements every kernel (src/backend/ts, the reference);
// `cpu` (native C++) and later `cuda` implement a subset, and the registry falls
// back to `ts` for whatever a backend lacks.

export type F32 = Float32Array;
export type I32 = Int32Array;
export type F64 = Float64Array;
/** IEEE half values as raw bits (float16 memory banks, the coreset's float16 points). */
export type U16 = Uint16Array;

/** Inference linear layer: x [N, in] · wᵀ (w [out, in]) with a per-feature epilogue. */
export interface LinearEvalParams {
  N: number;
  in: number;
  out: number;
}

/** C = alpha · op(A) · op(B) + beta · C; row-major, op(A) is M×K, op(B) is K×N. */
export interface GemmParams {
  M: number;
  N: number;
  K: number;
  transA: boolean; // A is stored K×M when true
  transB: boolean; // B is stored N×K when true
  alpha: number;
  beta: number; // beta = 0 means C is overwritten (its old contents, even NaN, are ignored)
}

/**
 * A 2-D convolution (cross-correlation, like PyTorch).
 * x: [N, C, H, W], w: [K, C/groups, kh, kw], y: [N, K, OH, OW].
 * OH = floor((H + 2ph − dh·(kh−1) − 1)/sh) + 1, likewise OW.
 * Zero padding only; reflection padding is a separate pad2d before the conv.
 */
export interface Conv2dParams {
  N: number;
  C: number;
  H: number;
  W: number;
  K: number;
  OH: number;
  OW: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  groups: number;
}

/** Pooling window geometry. x: [N, C, H, W] → y: [N, C, OH, OW]. */
export interface Pool2dParams {
  N: number;
  C: number;
  H: number;
  W: number;
  OH: number;
  OW: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number; // dilation (max pool only; 1 for avg pool)
  dw: number;
  ceilMode: boolean; // already folded into OH/OW by the engine; kept for clamping windows
  countIncludePad: boolean; // avg pool only
  divisorOverride: number; // avg pool only; 0 = none
}

/** Adaptive average pooling: window of output cell i spans [floor(i·H/OH), ceil((i+1)·H/OH)). */
export interface AdaptivePool2dParams {
  N: number;
  C: number;
  H: number;
  W: number;
  OH: number;
  OW: number;
}

/**
 * Upsampling x: [N, C, H, W] → y: [N, C, OH, OW], PyTorch semantics.
 * scaleH/scaleW: the source-per-destination ratio PyTorch uses when align_corners is
 * false (in/out, or 1/scale_factor when the user gave a scale factor). Ignored when
 * alignCorners is true (then (in−1)/(out−1)).
 */
export interface Upsample2dParams {
  N: number;
  C: number;
  H: number;
  W: number;
  OH: number;
  OW: number;
  alignCorners: boolean;
  scaleH: number;
  scaleW: number;
}

/** Padding of the last two dims. x: [NC, H, W] → y: [NC, H+top+bottom, W+left+right]. */
export interface Pad2dParams {
  NC: number;
  H: number;
  W: number;
  top: number;
  bottom: number;
  left: number;
  right: number;
  mode: 'constant' | 'reflect' | 'replicate';
  value: number; // constant mode only
}

/** Per-channel normalisation layout: x viewed as [N, C, HW]. */
export interface ChannelParams {
  N: number;
  C: number;
  HW: number;
}

/** Group normalisation: x viewed as [N, G, C/G, HW]; statistics per (n, g). */
export interface GroupNormParams {
  N: number;
  C: number;
  HW: number;
  G: number;
  eps: number;
}

/** Reduction over the middle axis of a dense [outer, mid, inner] view. */
export interface ReduceParams {
  outer: number;
  mid: number;
  inner: number;
}

/**
 * A strided copy over up to 6 dims (the engine collapses more): for every index i of
 * `shape`, dst[dstOffset + Σ i_d·dstStrides_d] (=|+=) src[srcOffset + Σ i_d·srcStrides_d].
 * Covers permute, slice, concat, expand (stride 0), constant pad and their backwards.
 */
export interface StridedCopyParams {
  shape: number[];
  srcStrides: number[];
  srcOffset: number;
  dstStrides: number[];
  dstOffset: number;
  accumulate: boolean; // += instead of =
}

export type UnaryOp =
  | 'neg'
  | 'relu'
  | 'leakyRelu' // alpha = negative slope
  | 'sigmoid'
  | 'tanh'
  | 'silu'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'abs'
  | 'square'
  | 'reciprocal'
  | 'softplus'
  | 'clamp' // alpha = min, beta = max (±Infinity for one-sided)
  | 'powScalar' // alpha = exponent
  | 'addScalar' // alpha
  | 'mulScalar'; // alpha

export interface UnaryParams {
  op: UnaryOp;
  n: number;
  alpha: number;
  beta: number;
}

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum' | 'pow';

/**
 * Broadcasting binary op. The engine expands both operands to `shape` (≤ 6 dims after
 * collapsing) and passes their strides (0 on broadcast dims). When both stride lists
 * are the dense strides of `shape`, backends may take a flat fast path.
 */
export interface BinaryParams {
  op: BinaryOp;
  shape: number[];
  aStrides: number[];
  bStrides: number[];
}

export interface AdamParams {
  n: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number; // L2 added to the gradient (torch.optim.Adam), not decoupled
  step: number; // 1-based step count, for bias correction
  amsgrad: boolean;
}

export interface SgdParams {
  n: number;
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  firstStep: boolean; // PyTorch initialises the momentum buffer to the gradient on the first step
}

/** Exact k-nearest-neighbour search (squared L2). queries [nq, d], base [nb, d]. */
export interface KnnParams {
  nq: number;
  nb: number;
  d: number;
  k: number;
}

/**
 * Farthest-point (k-center greedy) selection over [n, d] points, m picks. `newest`: a centre
 * folded into minDist before the first pick (−1: none). `starts` > 0: minDist is first set
 * from that many start points (official PatchCore rule: the squared mean of the Euclidean
 * distances to them).
 */
export interface CoresetParams {
  n: number;
  d: number;
  m: number;
  newest: number;
  starts: number;
}

/** y [n, e] = x [n, d] · wt [d, e] in float32, t ascending, no fused multiply-add. */
export interface CoresetProjectParams {
  n: number;
  d: number;
  e: number;
}

/**
 * Per-position Gaussian statistics (PaDiM). Embeddings x: [B, P, d] (position-major,
 * channel last: the d values of image b at position j are contiguous).
 */
export interface GaussianMomentsParams {
  B: number;
  P: number;
  d: number;
}

/** Batched Cholesky inverse of P symmetric positive-definite d×d matrices. */
export interface CholeskyParams {
  P: number;
  d: number;
}

/** Batched Mahalanobis quadratic forms: x [B, P, d], mean [P, d], inverse covariances [P, d, d]. */
export interface MahalanobisParams {
  B: number;
  P: number;
  d: number;
}

/**
 * The Poisson equation of Poisson image editing on `planes` independent height × width grids
 * (src/backend/ts/poisson.ts states the equation, the stopping rule and the solver).
 */
export interface PoissonParams {
  planes: number;
  height: number;
  width: number;
  /** Stop when ‖b − A·u‖₂ ≤ tol·‖b‖₂ (true residual); tol ≥ 0. */
  tol: number;
  /** At most this many conjugate-gradient iterations per plane. */
  maxIter: number;
}

/**
 * Multi-octave 3-D OpenSimplex noise on a [depth, height, width] integer grid (see
 * simplexField3).
 */
export interface SimplexFieldParams {
  depth: number;
  height: number;
  width: number;
  /** Octaves summed, 1 … 64. */
  octaves: number;
  /** Amplitude ratio of consecutive octaves (finite). */
  persistence: number;
  /** Wavelength of octave 0 in grid steps (> 0), halved per octave. */
  period: number;
  /** Grid origin: column j sits at x0 + j, row i at y0 + i (finite; 0 for a plain grid). */
  x0: number;
  y0: number;
}

/**
 * Every kernel a backend may implement. Outputs come last. Index outputs are
 * Int32Array. "Backward" kernels write (or, where named, accumulate into) gradients.
 */
/**
 * FrEIA AllInOneBlock's coupling step on x [B, C, HW] (positions innermost) with the
 * subnet's raw output r [B, 2·(C − C1), HW]; see couplingForward.
 */
export interface CouplingParams {
  B: number;
  C: number;
  /** Passive channels (FrEIA: C − ⌊C/2⌋); C2 = C − C1 are transformed. */
  C1: number;
  HW: number;
  /** The soft clamp α. */
  clamp: number;
  /** j = α·tanh(s/α) (FrEIA from 2023-08) instead of α·tanh(s). */
  scaled: boolean;
}

/**
 * Cosine distance over the middle axis of dense [outer, mid, inner] views (see
 * cosineDistance); eps clamps each norm from below, as PyTorch's cosine_similarity.
 */
export interface AttentionParams {
  /** Independent sets (B·heads). */
  batch: number;
  /** Queries and keys per set. */
  lq: number;
  lk: number;
  /** Query/key width and value width. */
  d: number;
  dv: number;
  /** Score scale, usually 1/√d. */
  scale: number;
}

export interface CosineParams {
  outer: number;
  mid: number;
  inner: number;
  eps: number;
}

export interface KernelTable {
  gemm(p: GemmParams, a: F32, b: F32, c: F32): void;
  /** Batched GEMM: `batch` independent products over consecutive blocks. */
  gemmBatched(p: GemmParams & { batch: number }, a: F32, b: F32, c: F32): void;

  conv2d(p: Conv2dParams, x: F32, w: F32, bias: F32 | null, y: F32): void;
  /** dx = conv2d's gradient w.r.t. its input (overwrites dx). Also the forward of conv_transpose2d. */
  conv2dBackwardInput(p: Conv2dParams, dy: F32, w: F32, dx: F32): void;
  /** dw = conv2d's gradient w.r.t. its weight (overwrites dw). */
  conv2dBackwardWeight(p: Conv2dParams, x: F32, dy: F32, dw: F32): void;
  /**
   * Inference path for 4×4, stride-2, padding-1 convs (transposed = false: x [N, C, H, W] → y
   * [N, K, OH, OW]) and transposed convs (true: p as for conv2dBackwardInput, x [N, K, OH, OW] →
   * y [N, C, H, W]): u (100·⌈Cin/16⌉·16·⌈Cout/16⌉·16 floats) = the filters of w prepared for
   * conv2dEval on this backend. Overwrites u.
   */
  conv2dEvalPack(p: Conv2dParams & { transposed: boolean }, w: F32, u: F32): void;
  /**
   * y = relu?(conv(x, w) · scale + shift) per output channel (scale/shift null = 1/0; relu
   * keeps NaN), u from conv2dEvalPack of w on the same backend. Overwrites y. Within a
   * float32 bound of conv2d / conv2dBackwardInput (native: Winograd F(4×4, 2×2)).
   */
  conv2dEval(p: Conv2dParams & { transposed: boolean; relu: boolean }, x: F32, w: F32, u: F32, scale: F32 | null, shift: F32 | null, y: F32): void;
  /** u (⌈out/16⌉·16·in floats) = the weight w [out, in] prepared for linearEval on this backend. Overwrites u. */
  linearEvalPack(p: LinearEvalParams, w: F32, u: F32): void;
  /**
   * y [N, out] = relu?((x · wᵀ) · scale + shift) per output feature (scale/shift null = 1/0; relu
   * keeps NaN). u is a cache of linearEvalPack(w) on this backend: the kernel checks it against w
   * and repacks what differs (so any u of the right size gives the same y). Overwrites y. Within a
   * float32 bound of gemm (native: a fixed ascending chain per output, the same on every thread count).
   */
  linearEval(p: LinearEvalParams & { relu: boolean }, x: F32, w: F32, u: F32, scale: F32 | null, shift: F32 | null, y: F32): void;

  pad2d(p: Pad2dParams, x: F32, y: F32): void;
  /** dx from dy for pad2d (overwrites dx; reflect/replicate fold border gradients back). */
  pad2dBackward(p: Pad2dParams, dy: F32, dx: F32): void;

  maxPool2d(p: Pool2dParams, x: F32, y: F32, argmax: I32): void;
  maxPool2dBackward(p: Pool2dParams, dy: F32, argmax: I32, dx: F32): void;
  avgPool2d(p: Pool2dParams, x: F32, y: F32): void;
  avgPool2dBackward(p: Pool2dParams, dy: F32, dx: F32): void;
  adaptiveAvgPool2d(p: AdaptivePool2dParams, x: F32, y: F32): void;
  adaptiveAvgPool2dBackward(p: AdaptivePool2dParams, dy: F32, dx: F32): void;

  upsampleBilinear2d(p: Upsample2dParams, x: F32, y: F32): void;
  upsampleBilinear2dBackward(p: Upsample2dParams, dy: F32, dx: F32): void;
  /** PyTorch 'nearest': src = min(floor(dst · scale), in − 1). */
  upsampleNearest2d(p: Upsample2dParams, x: F32, y: F32): void;
  upsampleNearest2dBackward(p: Upsample2dParams, dy: F32, dx: F32): void;

  /** Per-channel batch mean and biased variance (two-pass or Welford, not E[x²]−E[x]²). */
  batchNormStats(p: ChannelParams, x: F32, mean: F32, variance: F32): void;
  /** y = (x − mean) · invstd · gamma + beta; gamma/beta null = 1/0. */
  batchNormApply(p: ChannelParams, x: F32, mean: F32, invstd: F32, gamma: F32 | null, beta: F32 | null, y: F32): void;
  /**
   * batchNormApply followed by ReLU in one pass (eval-time fusion; NaN passes through as in
   * relu). y may be x (in place). Same bits as batchNormApply then unary relu on a backend.
   */
  batchNormApplyRelu(p: ChannelParams, x: F32, mean: F32, invstd: F32, gamma: F32 | null, beta: F32 | null, y: F32): void;
  /**
   * Gradients of batchNormApply. training = true: mean/invstd are batch statistics and
   * dx includes their dependence on x; false: they are constants (eval mode).
   * dgamma/dbeta may be null (affine = false). All outputs overwritten.
   */
  batchNormBackward(
    p: ChannelParams & { training: boolean },
    x: F32,
    dy: F32,
    mean: F32,
    invstd: F32,
    gamma: F32 | null,
    dx: F32,
    dgamma: F32 | null,
    dbeta: F32 | null,
  ): void;

  groupNormForward(p: GroupNormParams, x: F32, gamma: F32 | null, beta: F32 | null, y: F32, mean: F32, invstd: F32): void;
  groupNormBackward(
    p: GroupNormParams,
    x: F32,
    dy: F32,
    mean: F32,
    invstd: F32,
    gamma: F32 | null,
    dx: F32,
    dgamma: F32 | null,
    dbeta: F32 | null,
  ): void;

  /** y = silu(groupNorm(x)) in one pass (the diffusion U-Nets' GN → SiLU): bitwise groupNormForward then unary silu. */
  groupNormSiluForward(p: GroupNormParams, x: F32, gamma: F32 | null, beta: F32 | null, y: F32, mean: F32, invstd: F32): void;
  /** Gradients of y = silu(groupNorm(x)) from the forward's mean / invstd; dx must not share memory with x or dy. */
  groupNormSiluBackward(
    p: GroupNormParams,
    x: F32,
    dy: F32,
    mean: F32,
    invstd: F32,
    gamma: F32 | null,
    beta: F32 | null,
    dx: F32,
    dgamma: F32 | null,
    dbeta: F32 | null,
  ): void;

  unary(p: UnaryParams, x: F32, y: F32): void;
  /** dx = dy · f'(x); y is f(x) (some derivatives are cheaper from y). Overwrites dx. */
  unaryBackward(p: UnaryParams, x: F32, y: F32, dy: F32, dx: F32): void;
  binary(p: BinaryParams, a: F32, b: F32, y: F32): void;

  reduceSum(p: ReduceParams, x: F32, y: F32): void;
  /** Max over mid; argmax holds the winning mid index (first on ties). */
  reduceMax(p: ReduceParams, x: F32, y: F32, argmax: I32): void;

  /** Softmax over mid of [outer, mid, inner] (max-subtracted). */
  softmax(p: ReduceParams, x: F32, y: F32): void;
  softmaxBackward(p: ReduceParams, y: F32, dy: F32, dx: F32): void;
  logSoftmax(p: ReduceParams, x: F32, y: F32): void;
  logSoftmaxBackward(p: ReduceParams, y: F32, dy: F32, dx: F32): void;

  stridedCopy(p: StridedCopyParams, src: F32, dst: F32): void;
  fill(p: { n: number; value: number }, y: F32): void;
  /** y += alpha · x (gradient accumulation). */
  axpy(p: { n: number; alpha: number }, x: F32, y: F32): void;

  adamStep(p: AdamParams, param: F32, grad: F32, m: F32, v: F32, vmax: F32 | null): void;
  sgdStep(p: SgdParams, param: F32, grad: F32, momentumBuf: F32 | null): void;

  /**
   * Distances (squared L2 as ‖q‖² + ‖b‖² − 2q·b clamped at 0, ascending, ties → lower index)
   * and indices of the k nearest base rows per query; baseNorms (‖b‖² per row) or null.
   * Overwrites its outputs (+inf / −1 where k > nb).
   */
  knnSearch(p: KnnParams, queries: F32, base: F32, baseNorms: F32 | null, distances: F32, indices: I32): void;
  /** Greedy k-center: m picks into selected; minDist [n] is read and updated (see CoresetParams). */
  coresetGreedy(p: CoresetParams, points: F32, startIndices: I32, minDist: F32, selected: I32): void;
  /** The coreset's random projection in a fixed float32 order (overwrites y). */
  coresetProject(p: CoresetProjectParams, x: F32, wt: F32, y: F32): void;
  /** coresetGreedy on half-precision points: each half converted exactly to float32, then the same arithmetic. */
  coresetGreedyHalf(p: CoresetParams, points: U16, startIndices: I32, minDist: F32, selected: I32): void;
  /** knnSearch against a base stored as IEEE half (converted exactly to float32; distances in float32). */
  knnSearchHalf(p: KnnParams, queries: F32, base: U16, baseNorms: F32 | null, distances: F32, indices: I32): void;
  /** y[i] = the IEEE half nearest x[i] (ties to even; |x| ≥ 65520 → ±Inf), as raw bits (overwrites y). */
  halfFromFloat(p: { n: number }, x: F32, y: U16): void;
  /** y[i] = the float32 value of half x[i] (exact; overwrites y). */
  halfToFloat(p: { n: number }, x: U16, y: F32): void;

  /**
   * Accumulates (adds into) per-position moments of the shifted embeddings v = x[b, j, :] − shift[j, :]
   * (shift null = 0), in float64: sum[j, i] += Σ_b v_i, sumOuter[j, i, k] += Σ_b v_i·v_k (the full
   * symmetric d×d block). Images are added in order b = 0, 1, …, so the result does not depend
   * on the thread count.
   */
  gaussianMoments(p: GaussianMomentsParams, x: F32, shift: F32 | null, sum: F64, sumOuter: F64): void;
  /**
   * inv[j] = a[j]⁻¹ by Cholesky (a = L·Lᵀ, inv = L⁻ᵀ·L⁻¹), float64; inv may be a (exactly in place).
   * info[j] = 0 on success, else k + 1 where k is the first column whose pivot is not > 0
   * (not positive definite, or NaN); inv[j] is then all NaN. Only the lower triangle of a[j] is read.
   */
  choleskyInverse(p: CholeskyParams, a: F64, inv: F64, info: I32): void;
  /** out[b, j] = (x[b, j] − mean[j])ᵀ · inv[j] · (x[b, j] − mean[j]) (not clamped, not square-rooted). */
  mahalanobis(p: MahalanobisParams, x: F32, mean: F32, inv: F32, out: F32): void;
  /**
   * Per plane of x [planes, height, width]: the frame holds Dirichlet values (read), the interior
   * holds the initial guess and receives u with Σ_{4-neighbours q} x_q − 4·x_p = rhs_p at every
   * interior p (rhs [planes, height, width]; its frame is ignored), to the residual p.tol.
   * info [planes, 2] = iterations, final relative residual. Planes are independent (threaded over
   * planes natively), each solved by the same operations whatever the thread count.
   */
  poissonSolve(p: PoissonParams, rhs: F64, x: F64, info: F64): void;
  /**
   * out[(k·height + i)·width + j] = Σ_o a_o · N3((x0+j)/f_o, (y0+i)/f_o, z[k]/f_o) in float64, a_0 = 1,
   * a_{o+1} = a_o · persistence, f_0 = period, f_{o+1} = f_o/2: OpenSimplex (lmas/opensimplex
   * v0.4) with the seeded tables = perm[256] then pgi3[256]. The same bits on every backend
   * and thread count.
   */
  simplexField3(p: SimplexFieldParams, tables: I32, z: F64, out: F64): void;

  /**
   * s = 0.1·r[:, :C2], t = 0.1·r[:, C2:], th = tanh(s) (or tanh(s/α)), j = α·th,
   * u = concat(x1, x2·e^j + t), g_k = 0.2·ln(1 + exp(γ_k/2)) (identity above γ_k/2 = 20),
   * v = u·g + offset written to channel permInv[k] of y (k when permInv is null: the
   * caller then mixes channels by a matrix); th [B, C2, HW] saved for the backward;
   * logdet[b] = Σ_{C2, HW} j + HW·Σ_k ln g_k (summed in float64). Overwrites its outputs.
   */
  couplingForward(p: CouplingParams, x: F32, r: F32, gamma: F32, offset: F32, permInv: I32 | null, y: F32, th: F32, logdet: F32): void;
  /**
   * Gradients of couplingForward from dy and dlogdet (null = 0): dx (the direct part only:
   * x1's path through the subnet is the caller's), dr, dgamma, doffset [C] (per-channel
   * sums over (b, position) in order, float64). Overwrites its outputs.
   */
  couplingBackward(
    p: CouplingParams,
    x: F32,
    r: F32,
    th: F32,
    gamma: F32,
    permInv: I32 | null,
    dy: F32,
    dlogdet: F32 | null,
    dx: F32,
    dr: F32,
    dgamma: F32,
    doffset: F32,
  ): void;
  /**
   * q (row-major C×C) = Q of the Householder QR of the matrix whose column k is
   * a[k·C .. k·C + C) (a is overwritten), columns signed so that R has a positive diagonal,
   * column 0 negated when det Q = −1: a Haar-random rotation for a standard Gaussian a.
   * Float64 in one fixed order: the same bits on every backend and thread count.
   */
  couplingRotation(p: { C: number }, a: F64, q: F64): void;

  /**
   * d[o·inner + i] = 1 − cos(a[o, :, i], b[o, :, i]) with both norms clamped at eps;
   * stats [outer·inner, 3] = (cos, max(‖a‖, eps), max(‖b‖, eps)) for the backward. Sums in
   * float64 in a fixed order (the same bits on every backend and thread count).
   */
  cosineDistance(p: CosineParams, a: F32, b: F32, d: F32, stats: F32): void;
  /** Gradients of Σ dd·d into da and db (either null: not wanted), overwritten. */
  cosineDistanceBackward(p: CosineParams, a: F32, b: F32, stats: F32, dd: F32, da: F32 | null, db: F32 | null): void;

  /**
   * Scaled dot-product attention per set b: w = softmax_row(scale · q_b k_bᵀ) (row max
   * subtracted, fp32) into w [batch, lq, lk], out_b = w v_b into out [batch, lq, dv].
   */
  attentionForward(p: AttentionParams, q: F32, k: F32, v: F32, out: F32, w: F32): void;
  /**
   * Gradients of Σ dout ⊙ out (overwritten; null: not wanted): dv = wᵀ dout,
   * dS = scale · w ⊙ (dout vᵀ − Σ_row(dout vᵀ ⊙ w)), dq = dS k, dk = dSᵀ q.
   */
  attentionBackward(p: AttentionParams, q: F32, k: F32, v: F32, w: F32, dout: F32, dq: F32 | null, dk: F32 | null, dv: F32 | null): void;
}

export type KernelName = keyof KernelTable;

/**
 * Every kernel of the table, once, by family. The native loader takes these names from the
 * addon (a name the addon lacks is left to the `ts` fallback, reported once), and
 * test/native/exports.test.ts checks that the addon exports each of them.
 */
export const KERNEL_NAMES = [
  'gemm', 'gemmBatched',
  'conv2d', 'conv2dBackwardInput', 'conv2dBackwardWeight', 'conv2dEvalPack', 'conv2dEval',
  'linearEvalPack', 'linearEval',
  'pad2d', 'pad2dBackward',
  'maxPool2d', 'maxPool2dBackward', 'avgPool2d', 'avgPool2dBackward',
  'adaptiveAvgPool2d', 'adaptiveAvgPool2dBackward',
  'upsampleBilinear2d', 'upsampleBilinear2dBackward', 'upsampleNearest2d', 'upsampleNearest2dBackward',
  'batchNormStats', 'batchNormApply', 'batchNormApplyRelu', 'batchNormBackward', 'groupNormForward', 'groupNormBackward',
  'groupNormSiluForward', 'groupNormSiluBackward',
  'unary', 'unaryBackward', 'binary',
  'reduceSum', 'reduceMax', 'softmax', 'softmaxBackward', 'logSoftmax', 'logSoftmaxBackward',
  'stridedCopy', 'fill', 'axpy',
  'adamStep', 'sgdStep',
  'simplexField3',
  'knnSearch', 'coresetGreedy', 'coresetProject',
  'coresetGreedyHalf', 'knnSearchHalf', 'halfFromFloat', 'halfToFloat',
  'gaussianMoments', 'choleskyInverse', 'mahalanobis',
  'poissonSolve',
  'couplingForward', 'couplingBackward', 'couplingRotation',
  'cosineDistance', 'cosineDistanceBackward',
  'attentionForward', 'attentionBackward',
] as const satisfies readonly KernelName[];

// Compile-time completeness: a kernel added to KernelTable but not to KERNEL_NAMES is a type error here.
type MissingKernel = Exclude<KernelName, (typeof KERNEL_NAMES)[number]>;
const kernelNamesComplete: [MissingKernel] extends [never] ? true : MissingKernel = true;
void kernelNamesComplete;

/** FLOPs a kernel call performs, for the profiler (0 when not meaningful). */
export type FlopCounter = { [K in KernelName]?: (...args: Parameters<KernelTable[K]>) => number };

export interface Backend {
  name: 'ts' | 'cpu' | 'cuda';
  /** null when usable, otherwise the reason it is not. */
  unavailableReason(): string | null;
  kernels: Partial<KernelTable>;
  /** Free-form facts for `medianomaly backends` (BLAS in use, threads, SIMD, ...). */
  info(): Record<string, unknown>;
}
