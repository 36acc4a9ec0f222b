// How a run's method options are settled from what the caller gave, the method's
// defaults and the dataset: input size and channels follow the data, and the epoch count
// follows the reference's per-dataset rule unless given.
import { referenceEpochs } from '../methods/reconstruction/options.js';
import { oneStageEpochs } from '../methods/self-supervised/one-stage.js';
import type { MethodInfo } from '../methods/types.js';

function has(info: MethodInfo, name: string): boolean {
  return info.options.some((o) => o.name === name);
}

const ONE_STAGE = new Set(['cutpaste', 'fpi', 'pii', 'nsa']);

/**
 * The reference's epoch count for `method` on `dataset`: the reconstruction protocol trains
 * 600 epochs on brain-tumor and 250 elsewhere (methods.md §3.1), the one-stage SSL protocol
 * 400 on VinDr-CXR and 250 elsewhere (§3.2); other methods keep their own default.
 */
export function defaultEpochs(info: MethodInfo, dataset: string): number | undefined {
  const spec = info.options.find((o) => o.name === 'epochs');
  if (!spec) return undefined;
  if (info.family === 'image-reconstruction' && spec.default === 250) return referenceEpochs(dataset);
  // The one-stage SSL protocol (methods.md §3.2): 400 epochs on VinDr-CXR, 250 elsewhere.
  if (ONE_STAGE.has(info.name) && spec.default === 250) return oneStageEpochs(dataset);
  return typeof spec.default === 'number' ? spec.default : undefined;
}

/** The input side a run uses: the caller's, else the method's default size. */
export function runSize(info: MethodInfo, given: Record<string, unknown>, datasetSize?: number): number {
  const s = given.size ?? datasetSize ?? info.defaultSize;
  if (typeof s !== 'number' || !Number.isInteger(s) || s < 1) throw new RangeError(`size must be a positive integer, got ${JSON.stringify(s)}`);
  return s;
}

/**
 * Datasets on which the DAE masks its noise to the foreground (the reference does this for
 * brain and brats: MRI slices have a black background). synth-brain imitates them.
 */
const FOREGROUND_MASKED = new Set(['brain-tumor', 'brats2021', 'synth-brain']);

/** The caller's options completed with size, channels and epochs where the method has them. */
export function runOptions(info: MethodInfo, given: Record<string, unknown>, data: { name: string; size: number; channels: number }): Record<string, unknown> {
  const out: Record<string, unknown> = { ...given };
  // The data is loaded at the run's size; a method without a size option just sees it.
  if (has(info, 'size')) out.size = data.size;
  else delete out.size;
  if (has(info, 'channels') && out.channels === undefined) out.channels = data.channels;
  if (has(info, 'epochs') && out.epochs === undefined) out.epochs = defaultEpochs(info, data.name);
  if (has(info, 'foregroundMask') && out.foregroundMask === undefined) out.foregroundMask = FOREGROUND_MASKED.has(data.name);
  return out;
}
