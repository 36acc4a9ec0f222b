// Access to the PyTorch fixtures in test/fixtures/torch (see scripts/make-torch-fixtures.py).
import { readFileSync } from 'node:fs';
import { readSafetensors, toFloat32, type RawTensor } from '../../../src/nn/safetensors-format.js';

export const FIXTURE_DIR = new URL('../../fixtures/torch/', import.meta.url).pathname;

export interface OpCase {
  name: string;
  op: string;
  file: string;
  args: Record<string, any>;
  tensors: Record<string, string>;
}

export interface TorchIndex {
  torch: string;
  ops: OpCase[];
  optim: {
    file: string;
    p0: string;
    grads: string[];
    cases: Array<{ name: string; optimizer: 'Adam' | 'SGD'; args: Record<string, any>; steps: number; tensors: Record<string, string> }>;
    schedules: Array<{ name: string; scheduler: string; baseLr: number; args: Record<string, number>; lrs: number[] }>;
  };
  unified_ae: {
    file: string;
    config: { inChannels: number; latent: number; hidden: number; size: number };
    params: number;
    stateKeys: string[];
    adam: { lr: number; betas: [number, number]; eps: number };
    subsampled: { stride: number; keys: string[] };
  };
}

export const index: TorchIndex = JSON.parse(readFileSync(FIXTURE_DIR + 'index.json', 'utf8'));

const files = new Map<string, Map<string, RawTensor>>();

export function rawTensors(file: string): Map<string, RawTensor> {
  let t = files.get(file);
  if (!t) files.set(file, (t = readSafetensors(FIXTURE_DIR + file).tensors));
  return t;
}

/** A fixture tensor as { shape, data } (float32). */
export function fixture(file: string, key: string): { shape: number[]; data: Float32Array } {
  const raw = rawTensors(file).get(key);
  if (!raw) throw new Error(`fixture ${file} has no tensor "${key}"`);
  return { shape: raw.shape, data: toFloat32(raw) };
}
