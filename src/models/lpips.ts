// LPIPS v0.1 with the SqueezeNet 1.1 trunk, spatial output — the perceptual map AutoDDPM
// multiplies into its likelihood map (diffusion spec §3.6; richzhang/PerceptualSimilarity
// `lpips/lpips.py`, `LPIPS(net='squeeze', version='0.1', spatial=True)` in eval mode):
//
//   1. scaling layer (x − shift)/scale per RGB channel; a 1-channel image broadcasts to 3;
//   2. SqueezeNet 1.1 `features`, tapped after modules 1, 4, 7, 9, 10, 11, 12;
//   3. per tap: f / (√Σ_c f² + 1e-10) for both images, d = (f_a − f_b)², a 1×1 conv c → 1
//      without bias (the `lin` layers), bilinear upsampling (align_corners false) to H × W;
//   4. the seven maps summed, in tap order (as the reference's `val += res[l]`) → [B, 1, H, W].
//
// The dropout in front of each lin conv is inactive in eval mode and is not built. Inference
// only: spatialMap runs under noGrad in eval mode; the network is frozen.
import { add, concat, conv2d, div, expand, Generator, interpolate, noGrad, slice, sqrt, square, sub, sum, Tensor, tensor } from '../engine/index.js';
import { uniform } from '../nn/init.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Sequential } from '../nn/layers/container.js';
import { Module, type StateValue } from '../nn/module.js';
import { readStateDict } from '../nn/safetensors.js';
import { resolveWeights, type ResolvedWeights } from '../weights/resolve.js';
import { SqueezeNetFeatures, squeezenetInit } from './backbones/squeezenet.js';
import { LPIPS_SQUEEZE_CHANNELS, LPIPS_SQUEEZE_TAPS, lpipsSqueezeState } from './lpips-state.js';

export { LPIPS_SQUEEZE_CHANNELS, LPIPS_SQUEEZE_TAPS, lpipsSqueezeState } from './lpips-state.js';

/** The scaling layer's constants (lpips.ScalingLayer), float32 as PyTorch stores them. */
const SHIFT = tensor([-0.03, -0.088, -0.188], [1, 3, 1, 1]);
const SCALE = tensor([0.458, 0.448, 0.45], [1, 3, 1, 1]);
/** normalize_tensor's eps. */
const NORM_EPS = 1e-10;

export interface LPIPSOptions {
  /** 'random' (seeded, for tests) or a .safetensors file of arch lpips_squeeze (see resolveLPIPSWeights). */
  weights: string;
  /** The draws of weights: 'random' (default: a Generator seeded 0). */
  generator?: Generator;
}

/** lpips.NetLinLayer: Sequential(Dropout, Conv2d(c, 1, 1, bias=False)); only the conv is built (index 1 keeps the names). */
class LinLayer extends Module {
  readonly conv: Conv2d;
  constructor(channels: number) {
    super();
    const model = new Sequential();
    // Slot 0 is the dropout (identity in eval); a placeholder keeps the conv at `model.1`.
    model.append(new Identity()).append(new Conv2d(channels, 1, 1, { bias: false, init: false }));
    this.registerModule('model', model);
    this.conv = model.at(1) as Conv2d;
  }
  forward(d: Tensor): Tensor {
    return conv2d(d, this.conv.weight, null);
  }
}

class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

export class LPIPSSqueeze extends Module {
  /** SqueezeNet 1.1 `features`; its Sequential is registered as `features` so the state-dict names are the file's. */
  private readonly trunk: SqueezeNetFeatures;
  private readonly lins: LinLayer[];

  constructor() {
    super();
    this.trunk = new SqueezeNetFeatures();
    this.registerModule('features', this.trunk.stack);
    this.lins = LPIPS_SQUEEZE_CHANNELS.map((c, k) => this.registerModule(`lin${k}`, new LinLayer(c)));
    this.eval();
    this.requiresGrad_(false);
  }

  /** The trunk as a module (for initialisation and inspection). */
  get features(): SqueezeNetFeatures {
    return this.trunk;
  }

  /**
   * The LPIPS distance map of a and b, [B, 1 or 3, H, W] each, already in the LPIPS input
   * range ([−1, 1]): [B, 1, H, W]. H and W must be at least 3 (SqueezeNet's first conv);
   * the deepest taps of a small image are 1 × 1 and upsample to a constant.
   */
  spatialMap(a: Tensor, b: Tensor): Tensor {
    const maps = this.tapMaps(a, b);
    let val = maps[0];
    for (let k = 1; k < maps.length; k++) val = add(val, maps[k]);
    return val;
  }

  /** The seven upsampled per-tap maps [B, 1, H, W] whose sum is spatialMap (for inspection and tests). */
  tapMaps(a: Tensor, b: Tensor): Tensor[] {
    checkPair(a, b);
    if (this.training) this.eval();
    const [B, C, H, W] = a.shape;
    return noGrad(() => {
      // Both images in one pass through the trunk: half the kernel launches, the same values.
      const x = concat([scale(a, B, C, H, W), scale(b, B, C, H, W)], 0);
      const feats = this.trunk.taps(x, LPIPS_SQUEEZE_TAPS);
      return feats.map((f, k) => {
        const n = unitNormalise(f);
        const d = square(sub(slice(n, 0, 0, B), slice(n, 0, B, 2 * B)));
        return interpolate(this.lins[k].forward(d), { size: [H, W], mode: 'bilinear', alignCorners: false });
      });
    });
  }

  forward(a: Tensor, b: Tensor): Tensor {
    return this.spatialMap(a, b);
  }
}

function checkPair(a: Tensor, b: Tensor): void {
  for (const [name, t] of [
    ['a', a],
    ['b', b],
  ] as const) {
    if (!(t instanceof Tensor)) throw new TypeError(`LPIPSSqueeze.spatialMap: ${name} must be a Tensor [B, 1 or 3, H, W]`);
    if (t.ndim !== 4 || (t.shape[1] !== 1 && t.shape[1] !== 3)) {
      throw new RangeError(`LPIPSSqueeze.spatialMap: ${name} must be [B, 1 or 3, H, W] images in [−1, 1], got [${t.shape.join(', ')}]`);
    }
  }
  if (a.shape.some((d, i) => d !== b.shape[i])) throw new RangeError(`LPIPSSqueeze.spatialMap: a [${a.shape.join(', ')}] and b [${b.shape.join(', ')}] must have the same shape`);
  if (a.shape[2] < 3 || a.shape[3] < 3) throw new RangeError(`LPIPSSqueeze.spatialMap: images must be at least 3 × 3 (SqueezeNet's first conv), got ${a.shape[2]} × ${a.shape[3]}`);
}

/** lpips.ScalingLayer; one channel broadcasts to three (as PyTorch's (x − shift) does). */
function scale(x: Tensor, B: number, C: number, H: number, W: number): Tensor {
  const x3 = C === 1 ? expand(x, [B, 3, H, W]) : x;
  return div(sub(x3, SHIFT), SCALE);
}

/** lpips.normalize_tensor: f / (√Σ_c f² + eps). */
function unitNormalise(f: Tensor): Tensor {
  return div(f, add(sqrt(sum(square(f), 1, true)), NORM_EPS));
}

/**
 * The .safetensors file LPIPS-squeeze loads, as for the backbones (resolveWeights): null or ''
 * → the cached file of `medianomaly weights fetch lpips_squeeze`; 'random' → random weights;
 * a path → that file, its header checked. Never downloads. Methods record the returned SHA-256.
 */
export function resolveLPIPSWeights(spec?: string | null): ResolvedWeights {
  return resolveWeights('lpips_squeeze', spec);
}

/** LPIPS-squeeze with loaded or seeded random weights, frozen, in eval mode. */
export function createLPIPSSqueeze(o: LPIPSOptions): LPIPSSqueeze {
  const weights = o?.weights;
  if (typeof weights !== 'string' || weights === '') {
    throw new TypeError(
      `createLPIPSSqueeze: weights must be 'random' (for tests) or a .safetensors file of arch lpips_squeeze (\`medianomaly weights fetch lpips_squeeze\`, or resolveLPIPSWeights(null) for the cached one); got ${JSON.stringify(weights)}`,
    );
  }
  const net = new LPIPSSqueeze();
  if (weights === 'random') randomLPIPSInit(net, o.generator ?? new Generator(0));
  else loadLPIPSWeights(net, weights);
  return net;
}

/**
 * Random weights for tests: torchvision's SqueezeNet initialisation for the trunk, then each
 * lin layer U(0, 2/C) — non-negative like the trained layers (LPIPS clamps them ≥ 0 while
 * training), so the map is a non-negative weighted mean of normalised squared differences.
 */
export function randomLPIPSInit(net: LPIPSSqueeze, g: Generator): void {
  squeezenetInit(net.features, g);
  LPIPS_SQUEEZE_CHANNELS.forEach((c, k) => {
    const w = net.stateDict().get(`lin${k}.model.1.weight`)!;
    uniform(w, 0, 2 / c, { generator: g });
  });
}

/** Loads a combined lpips_squeeze .safetensors (names and shapes checked first, every offender named). */
export function loadLPIPSWeights(net: LPIPSSqueeze, path: string): void {
  const resolved = resolveWeights('lpips_squeeze', path);
  let dict: Map<string, StateValue>;
  try {
    dict = readStateDict(resolved.path);
  } catch (e) {
    throw new Error(`LPIPS-squeeze weights ${path}: ${(e as Error).message}`);
  }
  const expected = new Set(lpipsSqueezeState().map((e) => e.name));
  net.loadStateDict(new Map([...dict].filter(([k]) => expected.has(k))));
}
