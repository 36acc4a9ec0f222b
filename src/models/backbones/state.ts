// The torchvision state dicts the backbones load: names and shapes computed from the
// architecture alone (no network allocated), and the comparison of a file's tensors against
// them that both loading and `medianomaly weights check` use.
//
// What a file may hold besides the expected tensors:
// - the classifier torchvision's full models have (`fc.weight`, `fc.bias` for the ResNets;
//   `classifier.*` for VGG19): accepted and ignored, because features end before it;
// - no `*.num_batches_tracked`: torchvision's state_dict() has it (int64, 0-d), but files
//   converted from checkpoints saved before PyTorch 0.4.1 lack it; it only matters for
//   training with momentum = None, never in eval mode, so an absent one is accepted and left
//   at 0.
// Anything else missing, extra or shaped differently is refused, every offending name listed.
import { RESNET_ARCHS, expansionOf, type ResNetArch } from './resnet.js';
import { VGG19_CFG } from './vgg.js';
import type { BackboneName } from './base.js';
import { lpipsSqueezeState } from '../lpips-state.js';

export interface ExpectedTensor {
  name: string;
  shape: number[];
  /** How torchvision stores it: float32, or int64 for num_batches_tracked. */
  dtype: 'float32' | 'int64';
}

function bnEntries(prefix: string, c: number): ExpectedTensor[] {
  return [
    { name: `${prefix}.weight`, shape: [c], dtype: 'float32' },
    { name: `${prefix}.bias`, shape: [c], dtype: 'float32' },
    { name: `${prefix}.running_mean`, shape: [c], dtype: 'float32' },
    { name: `${prefix}.running_var`, shape: [c], dtype: 'float32' },
    { name: `${prefix}.num_batches_tracked`, shape: [], dtype: 'int64' },
  ];
}

const convEntry = (name: string, out: number, inp: number, k: number): ExpectedTensor => ({ name: `${name}.weight`, shape: [out, inp, k, k], dtype: 'float32' });

function resnetState(arch: ResNetArch): ExpectedTensor[] {
  const e = expansionOf(arch.block);
  const out: ExpectedTensor[] = [convEntry('conv1', 64, 3, 7), ...bnEntries('bn1', 64)];
  let inplanes = 64;
  [64, 128, 256, 512].forEach((planes, li) => {
    const stride = li === 0 ? 1 : 2;
    for (let b = 0; b < arch.layers[li]; b++) {
      const p = `layer${li + 1}.${b}`;
      if (arch.block === 'basic') {
        out.push(convEntry(`${p}.conv1`, planes, inplanes, 3), ...bnEntries(`${p}.bn1`, planes));
        out.push(convEntry(`${p}.conv2`, planes, planes, 3), ...bnEntries(`${p}.bn2`, planes));
      } else {
        const width = Math.trunc(planes * (arch.widthPerGroup / 64));
        out.push(convEntry(`${p}.conv1`, width, inplanes, 1), ...bnEntries(`${p}.bn1`, width));
        out.push(convEntry(`${p}.conv2`, width, width, 3), ...bnEntries(`${p}.bn2`, width));
        out.push(convEntry(`${p}.conv3`, planes * e, width, 1), ...bnEntries(`${p}.bn3`, planes * e));
      }
      if (b === 0 && (stride !== 1 || inplanes !== planes * e)) {
        out.push(convEntry(`${p}.downsample.0`, planes * e, inplanes, 1), ...bnEntries(`${p}.downsample.1`, planes * e));
      }
      inplanes = planes * e;
    }
  });
  return out;
}

function vggState(): ExpectedTensor[] {
  const out: ExpectedTensor[] = [];
  let index = 0;
  let cin = 3;
  for (const v of VGG19_CFG) {
    if (v === 'M') {
      index += 1;
      continue;
    }
    out.push({ name: `features.${index}.weight`, shape: [v, cin, 3, 3], dtype: 'float32' }, { name: `features.${index}.bias`, shape: [v], dtype: 'float32' });
    cin = v;
    index += 2;
  }
  return out;
}

export const BACKBONE_NAMES: readonly BackboneName[] = ['resnet18', 'wide_resnet50_2', 'vgg19'];

/**
 * What the weights system (import, check, fetch, cache, resolveWeights) handles: the ImageNet
 * backbones, and `lpips_squeeze` — LPIPS v0.1's SqueezeNet 1.1 trunk and linear layers in one
 * file (src/models/lpips-state.ts), not a backbone.
 */
export type WeightsArch = BackboneName | 'lpips_squeeze';

export const WEIGHTS_ARCHS: readonly WeightsArch[] = [...BACKBONE_NAMES, 'lpips_squeeze'];

export function checkWeightsArch(name: unknown, what = 'weights'): WeightsArch {
  if (!WEIGHTS_ARCHS.includes(name as WeightsArch)) {
    throw new RangeError(`${what}: unknown weights architecture ${JSON.stringify(name)}; use one of ${WEIGHTS_ARCHS.join(', ')}`);
  }
  return name as WeightsArch;
}

/** How messages name the network the weights are for. */
export function archLabel(arch: WeightsArch): string {
  return arch === 'lpips_squeeze' ? 'LPIPS-squeeze (SqueezeNet 1.1 features + LPIPS v0.1 lin layers)' : `torchvision's ${arch}`;
}

export function checkBackboneName(name: unknown, what = 'backbones'): BackboneName {
  if (!BACKBONE_NAMES.includes(name as BackboneName)) {
    throw new RangeError(`${what}: unknown backbone ${JSON.stringify(name)}; use one of ${BACKBONE_NAMES.join(', ')}`);
  }
  return name as BackboneName;
}

/** torchvision's state-dict names, shapes and dtypes of the backbone (its classifier excepted), in torchvision's order. */
export function expectedState(name: WeightsArch): ExpectedTensor[] {
  checkWeightsArch(name, 'expectedState');
  if (name === 'lpips_squeeze') return lpipsSqueezeState().map((e) => ({ ...e, dtype: 'float32' as const }));
  return name === 'vgg19' ? vggState() : resnetState(RESNET_ARCHS[name]);
}

/** The prefix of torchvision's classifier, present in its files, unused by features (lpips_squeeze: SqueezeNet's). */
export function headPrefix(name: WeightsArch): string {
  return name === 'vgg19' || name === 'lpips_squeeze' ? 'classifier.' : 'fc.';
}

/**
 * Names a file may hold that are accepted and not loaded: the classifier, and for
 * lpips_squeeze also the scaling layer's constant buffers (`scaling_layer.shift` / `.scale`,
 * in an LPIPS module's state dict, fixed in the code).
 */
export function ignoredPrefixes(name: WeightsArch): string[] {
  return name === 'lpips_squeeze' ? ['classifier.', 'scaling_layer.'] : [headPrefix(name)];
}

export interface StateCheck {
  /** True when the file can be loaded: nothing missing (optional entries aside), extra or mis-shaped. */
  ok: boolean;
  /** Expected tensors the file lacks. */
  missing: string[];
  /** Tensors the file has that the backbone does not know (classifier aside). */
  extra: string[];
  misshaped: { name: string; expected: number[]; found: number[] }[];
  /** Classifier tensors (lpips_squeeze: also scaling-layer constants) present in the file and ignored. */
  ignored: string[];
  /** num_batches_tracked entries the file lacks (accepted; left at 0). */
  absentOptional: string[];
}

/**
 * Compares a file's tensors (name → shape) with torchvision's state dict of `arch`. Pure: it
 * reads nothing and allocates no network.
 */
export function compareState(arch: WeightsArch, given: Map<string, { shape: readonly number[] }> | Iterable<{ name: string; shape: readonly number[] }>): StateCheck {
  const found = given instanceof Map ? given : new Map([...given].map((t) => [t.name, t] as const));
  const expected = expectedState(arch);
  const known = new Set(expected.map((e) => e.name));
  const heads = ignoredPrefixes(arch);
  const check: StateCheck = { ok: false, missing: [], extra: [], misshaped: [], ignored: [], absentOptional: [] };
  for (const e of expected) {
    const t = found.get(e.name);
    if (!t) {
      if (e.name.endsWith('.num_batches_tracked')) check.absentOptional.push(e.name);
      else check.missing.push(e.name);
    } else if (t.shape.length !== e.shape.length || t.shape.some((d, i) => d !== e.shape[i])) {
      check.misshaped.push({ name: e.name, expected: e.shape, found: [...t.shape] });
    }
  }
  for (const name of found.keys()) {
    if (known.has(name)) continue;
    if (heads.some((h) => name.startsWith(h))) check.ignored.push(name);
    else check.extra.push(name);
  }
  check.ok = !check.missing.length && !check.extra.length && !check.misshaped.length;
  return check;
}

function listed(names: string[], max = 8): string {
  const head = names.slice(0, max).join(', ');
  return names.length > max ? `${head}, … (${names.length - max} more)` : head;
}

/** A one-paragraph account of what is wrong (empty when check.ok). */
export function describeStateCheck(arch: WeightsArch, check: StateCheck): string {
  if (check.ok) return '';
  const parts: string[] = [];
  if (check.misshaped.length) {
    parts.push(
      `${check.misshaped.length} tensor(s) with the wrong shape: ` +
        check.misshaped
          .slice(0, 8)
          .map((m) => `${m.name} is [${m.found.join(', ')}], ${archLabel(arch)} has [${m.expected.join(', ')}]`)
          .join('; ') +
        (check.misshaped.length > 8 ? `; … (${check.misshaped.length - 8} more)` : ''),
    );
  }
  if (check.missing.length) parts.push(`${check.missing.length} missing: ${listed(check.missing)}`);
  if (check.extra.length) parts.push(`${check.extra.length} not in ${archLabel(arch)}: ${listed(check.extra)}`);
  if (arch === 'lpips_squeeze') {
    return `not LPIPS-squeeze weights: ${parts.join('; ')}. Combine LPIPS v0.1's squeeze.pth with torchvision's squeezenet1_1-b8a52dc0.pth: medianomaly weights import squeeze.pth --arch lpips_squeeze --trunk squeezenet1_1-b8a52dc0.pth --out F.safetensors, or medianomaly weights fetch lpips_squeeze`;
  }
  return `not torchvision ${arch} weights: ${parts.join('; ')}. Convert torchvision's own ${arch} file: medianomaly weights import FILE.pth --arch ${arch} --out F.safetensors, or medianomaly weights fetch ${arch}`;
}
