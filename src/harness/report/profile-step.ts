// The per-kernel profile of one training step of a method: one epoch over exactly one
// batch of training images, with the kernel profiler on (src/engine/profile.ts), after one
// unprofiled warm-up step.
import { profile, type ProfileRow } from '../../engine/profile.js';
import { currentBackend } from '../../engine/index.js';
import { createMethod, methods } from '../../methods/registry.js';
import { runOptions } from '../options.js';
import { subsetSplit } from '../subset.js';
import { loadDataset } from '../train.js';
import type { DatasetSpec } from '../run-folder.js';

export interface StepProfile {
  method: string;
  dataset: string;
  backend: string;
  batch: number;
  size: number;
  ms: number;
  rows: ProfileRow[];
}

/** Profiles one optimiser step of `method` (with `options`) on the first batch of `spec`'s training split. */
export async function profileStep(method: string, spec: DatasetSpec, options: Record<string, unknown>): Promise<StepProfile> {
  const info = methods.info(method);
  const size = (options.size as number | undefined) ?? spec.options?.size ?? info.defaultSize;
  const data = await loadDataset(spec, size);
  const opts = runOptions(info, { ...options, epochs: 1 }, { name: spec.name, size, channels: data.info.channels });
  const batchSpec = info.options.find((o) => o.name === 'batchSize');
  const batch = Math.min(data.train.length, Number(opts.batchSize ?? batchSpec?.default ?? 16));
  const m = createMethod(method, opts);
  const one = subsetSplit(data.train, Array.from({ length: batch }, (_, i) => i));
  await one.images(); // data preparation is not part of the step
  await m.fit(one); // warm-up: the first step also pays for JIT compilation and allocation
  const wasEnabled = profile.isEnabled();
  profile.reset();
  profile.enable();
  const t0 = performance.now();
  try {
    await m.fit(one);
  } finally {
    if (!wasEnabled) profile.disable();
  }
  const ms = performance.now() - t0;
  const rows = profile.report();
  profile.reset();
  return { method, dataset: spec.name, backend: currentBackend(), batch, size, ms, rows };
}
