// CeAE, the context-encoding AE (methods.md §5.11): each training image has one square
// erased to −1 (torchvision RandomErasing with p 1, scale (0.024, 0.024), ratio (1, 1):
// side round(√(0.024·H·W)) = 10 px at 64 px, top-left corner uniform over the positions
// where it fits), redrawn every time the image is used; the target is the unmasked image.
// Test: unmasked input, map (x − x̂)², score its mean.
import { Tensor, type Generator } from '../../engine/index.js';
import { UnifiedAE } from '../../models/unified-ae.js';
import { registerMethod } from '../catalogue.js';
import { numberOption } from '../training/options.js';
import { aeInfo, AEFamilyMethod, squaredErrorMap, unifiedAEOptions } from './ae-family.js';
import type { StepContext } from '../training/trainer.js';

/** Side of the erased square: round(√(scale·H·W)) with aspect ratio 1, as RandomErasing. */
export function erasedSide(size: number, scale: number): number {
  return Math.round(Math.sqrt(scale * size * size));
}

/**
 * A copy of x [B, C, S, S] with one side × side square per image set to `value` in every
 * channel; positions drawn from `g` image by image (row, then column).
 */
export function eraseSquares(x: Tensor, side: number, g: Generator, value = -1): Tensor {
  const [b, c, s] = x.shape;
  const out = x.data.slice();
  // RandomErasing leaves the image untouched when the square does not fit.
  if (side >= s || side < 1) return Tensor.fromData(out, x.shape);
  for (let i = 0; i < b; i++) {
    const top = g.int(s - side + 1);
    const left = g.int(s - side + 1);
    for (let ch = 0; ch < c; ch++) {
      const base = (i * c + ch) * s * s;
      for (let y = top; y < top + side; y++) out.fill(value, base + y * s + left, base + y * s + left + side);
    }
  }
  return Tensor.fromData(out, x.shape);
}

export class CeAE extends AEFamilyMethod<UnifiedAE> {
  protected buildNetwork(generator: Generator): UnifiedAE {
    return new UnifiedAE(unifiedAEOptions(this.options, generator));
  }

  protected override loss(net: UnifiedAE, x: Tensor, ctx: StepContext): Tensor {
    const side = erasedSide(this.options.size as number, this.options.eraseScale as number);
    const masked = eraseSquares(x, side, ctx.generator);
    return x.sub(this.output(net.forward(masked))).square().mean();
  }

  protected scoreBatch(net: UnifiedAE, x: Tensor, wantReconstructions: boolean) {
    const xhat = this.output(net.forward(x));
    const maps = squaredErrorMap(x, xhat);
    return wantReconstructions ? { maps, reconstructions: xhat } : { maps };
  }
}

/** Options ceae adds to the unified AE's. */
export const CEAE_OPTIONS = [numberOption('eraseScale', 0.024, 'erased area as a fraction of the image (square side round(√(scale·S²)))', { min: 0, max: 1 })];

const info = aeInfo(
  'ceae',
  'CeAE',
  'Context-encoding autoencoder: trained to restore images with one square erased (10 px at 64 px); map (x − x̂)², score its mean.',
  CEAE_OPTIONS,
);
registerMethod({ info, create: (o) => new CeAE(info, o) });
