// The weights file of LPIPS-squeeze (arch `lpips_squeeze` in the weights system): one
// .safetensors holding both parts the metric needs, under the names of their published files —
// torchvision's SqueezeNet 1.1 `features.*` (squeezenet1_1-b8a52dc0.pth, classifier dropped) and
// LPIPS v0.1's linear layers `lin0.model.1.weight` … `lin6.model.1.weight` [1, C, 1, 1]
// (richzhang/PerceptualSimilarity lpips/weights/v0.1/squeeze.pth; `model.1` because NetLinLayer
// is Sequential(Dropout, Conv2d 1×1 without bias)). One file, so a method's weights option names
// one path and records one SHA-256. `medianomaly weights import squeeze.pth --arch lpips_squeeze
// --trunk squeezenet1_1-b8a52dc0.pth` and `medianomaly weights fetch lpips_squeeze` write it.
// Pure data: nothing here allocates a network.
import { squeezenetChannels, squeezenetFeaturesState } from './backbones/squeezenet.js';

/** Modules of SqueezeNet 1.1 `features` whose outputs LPIPS compares (its slices 1..7 end there). */
export const LPIPS_SQUEEZE_TAPS: readonly number[] = [1, 4, 7, 9, 10, 11, 12];

/** Channels at each tap: 64, 128, 256, 384, 384, 512, 512. */
export const LPIPS_SQUEEZE_CHANNELS: readonly number[] = LPIPS_SQUEEZE_TAPS.map(squeezenetChannels);

/** The linear layers' names and shapes, as squeeze.pth stores them. */
export function lpipsLinState(): { name: string; shape: number[] }[] {
  return LPIPS_SQUEEZE_CHANNELS.map((c, k) => ({ name: `lin${k}.model.1.weight`, shape: [1, c, 1, 1] }));
}

/** Every tensor of the combined file: the trunk (torchvision's order) then the linear layers. */
export function lpipsSqueezeState(): { name: string; shape: number[] }[] {
  return [...squeezenetFeaturesState('features'), ...lpipsLinState()];
}
