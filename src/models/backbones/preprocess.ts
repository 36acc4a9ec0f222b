// From the library's images ([-1, 1], 1 or 3 channels) to a backbone's input [N, 3, H, W].
//
// 'imagenet': v ↦ 0.5·v + 0.5 (back to [0, 1]) then (v − m_c)/s_c with ImageNet's mean
// (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225), in that order of operations (as
// torchvision's ToTensor + Normalize and the reference's perceptual loss compute it).
// 'half': Normalize(0.5, 0.5) of [0, 1] images, i.e. the [-1, 1] values themselves
// (MedIAnomaly's ResNet18-ImageNet baseline, quirk resnetInHalfNorm).
// Grey images are repeated to three channels (the reference rule, REQ-GRAY). Every step is an
// engine op, so gradients flow through it.
import { add, div, expand, mul, sub, Tensor, tensor } from '../../engine/index.js';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export interface BackboneInputOptions {
  normalisation: 'imagenet' | 'half';
  /** What to do with 1-channel input: repeat it to three channels (the only policy). */
  channelPolicy?: 'replicate';
}

const MEAN = tensor([...IMAGENET_MEAN], [1, 3, 1, 1]);
const STD = tensor([...IMAGENET_STD], [1, 3, 1, 1]);

/** x [N, C, H, W] in [-1, 1], C = 1 or 3 → the backbone's input [N, 3, H, W]. */
export function toBackboneInput(x: Tensor, opts: BackboneInputOptions): Tensor {
  if (!(x instanceof Tensor)) throw new TypeError('toBackboneInput: x must be a Tensor [N, C, H, W]');
  if (x.ndim !== 4 || (x.shape[1] !== 1 && x.shape[1] !== 3)) {
    throw new RangeError(`toBackboneInput: x must be [N, 1 or 3, H, W] images in [-1, 1], got [${x.shape.join(', ')}]`);
  }
  const norm = opts?.normalisation;
  if (norm !== 'imagenet' && norm !== 'half') throw new RangeError(`toBackboneInput: normalisation must be 'imagenet' or 'half', got ${JSON.stringify(norm)}`);
  const policy = opts.channelPolicy ?? 'replicate';
  if (policy !== 'replicate') throw new RangeError(`toBackboneInput: channelPolicy must be 'replicate', got ${JSON.stringify(policy)}`);
  const [n, c, h, w] = x.shape;
  const x3 = c === 1 ? expand(x, [n, 3, h, w]) : x;
  if (norm === 'half') return x3;
  return div(sub(add(mul(x3, 0.5), 0.5), MEAN), STD);
}
