// torchvision's VGG19 feature stack (`features`, configuration "E") with torchvision's
// state-dict names `features.N.weight` / `features.N.bias` (16 convs, N the index in the
// Sequential). The pooling head and classifier are not built. Every conv is 3×3 with bias and
// zero padding 1 followed by a ReLU; a 2×2 max-pool of stride 2 closes each of the five blocks.
import type { Tensor } from '../../engine/index.js';
import { ReLU } from '../../nn/layers/activation.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { MaxPool2d } from '../../nn/layers/pooling.js';
import { Sequential } from '../../nn/layers/container.js';
import { BackboneModule, type BackboneLayer } from './base.js';

/** torchvision's cfgs['E']: conv widths, 'M' for a max-pool. */
export const VGG19_CFG: readonly (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'];

export interface VggLayer {
  /** relu<b>_<i> or pool<b>. */
  name: string;
  /** Index in `features` of the module whose output this is. */
  index: number;
  channels: number;
  stride: number;
}

/** Every named output of the stack, in order, with its index in `features`. */
export function vgg19Layers(): VggLayer[] {
  const out: VggLayer[] = [];
  let index = 0;
  let block = 1;
  let conv = 1;
  let channels = 3;
  let stride = 1;
  for (const v of VGG19_CFG) {
    if (v === 'M') {
      stride *= 2;
      out.push({ name: `pool${block}`, index, channels, stride });
      index += 1;
      block += 1;
      conv = 1;
    } else {
      channels = v;
      out.push({ name: `relu${block}_${conv}`, index: index + 1, channels, stride });
      index += 2;
      conv += 1;
    }
  }
  return out;
}

export class VGG19Features extends BackboneModule {
  readonly name = 'vgg19' as const;
  readonly layers: readonly BackboneLayer[] = vgg19Layers().map(({ name, channels, stride }) => ({ name, channels, stride }));
  /** torchvision's `features` Sequential (registered under that name). */
  readonly stack: Sequential;
  private readonly layerIndex: Map<string, number>;

  constructor() {
    super();
    const seq = new Sequential();
    let cin = 3;
    for (const v of VGG19_CFG) {
      if (v === 'M') seq.append(new MaxPool2d(2, { stride: 2 }));
      else {
        seq.append(new Conv2d(cin, v, 3, { padding: 1, init: false })).append(new ReLU());
        cin = v;
      }
    }
    this.stack = this.registerModule('features', seq);
    this.layerIndex = new Map(vgg19Layers().map((l) => [l.name, l.index]));
  }

  /** Runs `features` in the current grad mode, keeping the outputs named in `want` and stopping after `last`. */
  protected runStages(x: Tensor, want: ReadonlySet<string>, last: string): Record<string, Tensor> {
    const byIndex = new Map<number, string>();
    for (const name of want) byIndex.set(this.layerIndex.get(name)!, name);
    const stop = this.layerIndex.get(last)!;
    const out: Record<string, Tensor> = {};
    let h = x;
    for (let i = 0; i <= stop; i++) {
      h = this.stack.at(i).forward(h);
      const name = byIndex.get(i);
      if (name) out[name] = h;
    }
    return out;
  }

  forward(x: Tensor): Tensor {
    return this.stack.forward(x);
  }
}
