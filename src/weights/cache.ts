// The weights cache: one converted .safetensors per backbone under weightsCacheDir(), with a
// small JSON beside it recording where it came from (URL, the source file's SHA-256) and the
// SHA-256 of the converted file. Only `medianomaly weights fetch` writes it.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BackboneName } from '../models/backbones/base.js';
import { BACKBONE_NAMES } from '../models/backbones/state.js';

/** torchvision's published ImageNet weights (IMAGENET1K_V1), as its model builders name them. */
export const TORCHVISION_WEIGHTS: Record<BackboneName, string> = {
  resnet18: 'resnet18-f37072fd.pth',
  wide_resnet50_2: 'wide_resnet50_2-95faca4d.pth',
  vgg19: 'vgg19-dcbb9e9d.pth',
};

export const TORCHVISION_BASE_URL = 'https://download.pytorch.org/models/';

/** The folder of cached weights: MEDIANOMALY_WEIGHTS, or ~/.cache/medianomaly. */
export function weightsCacheDir(): string {
  const env = process.env.MEDIANOMALY_WEIGHTS;
  return env ? resolve(env) : join(homedir(), '.cache', 'medianomaly');
}

export interface CacheRecord {
  arch: BackboneName;
  /** SHA-256 of the cached .safetensors file. */
  sha256: string;
  bytes: number;
  source: { url: string; file: string; sha256: string; bytes: number; format: string };
  conversions: { from: string; to: string; count: number }[];
  fetched: string;
}

export function cachePaths(arch: BackboneName, dir = weightsCacheDir()): { weights: string; record: string } {
  return { weights: join(dir, `${arch}.safetensors`), record: join(dir, `${arch}.json`) };
}

/** The cache record of `arch`, or why there is none usable (not fetched, incomplete, unreadable). */
export function readCacheRecord(arch: BackboneName, dir = weightsCacheDir()): { record: CacheRecord | null; problem: string | null } {
  const p = cachePaths(arch, dir);
  const hasWeights = existsSync(p.weights);
  const hasRecord = existsSync(p.record);
  if (!hasWeights && !hasRecord) return { record: null, problem: null };
  if (!hasWeights || !hasRecord) return { record: null, problem: `the cache holds ${hasWeights ? p.weights : p.record} without ${hasWeights ? p.record : p.weights} (an interrupted fetch?)` };
  try {
    const r = JSON.parse(readFileSync(p.record, 'utf8')) as CacheRecord;
    if (r.arch !== arch || typeof r.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(r.sha256)) throw new Error('not a weights cache record');
    return { record: r, problem: null };
  } catch (e) {
    return { record: null, problem: `${p.record} is unreadable (${(e as Error).message})` };
  }
}

export interface CachedWeights {
  arch: BackboneName;
  path: string;
  cached: boolean;
  bytes?: number;
  sha256?: string;
  sourceUrl?: string;
  fetched?: string;
  problem?: string;
}

/** What the cache holds, one row per backbone (nothing is hashed: see resolveWeights for the check). */
export function listCachedWeights(dir = weightsCacheDir()): CachedWeights[] {
  return BACKBONE_NAMES.map((arch) => {
    const p = cachePaths(arch, dir);
    const { record, problem } = readCacheRecord(arch, dir);
    if (!record) return { arch, path: p.weights, cached: false, ...(problem ? { problem } : {}) };
    const size = statSync(p.weights).size;
    return {
      arch,
      path: p.weights,
      cached: true,
      bytes: size,
      sha256: record.sha256,
      sourceUrl: record.source?.url,
      fetched: record.fetched,
      ...(size !== record.bytes ? { problem: `${size} bytes on disk, ${record.bytes} recorded: the file changed since it was fetched; fetch it again (--force)` } : {}),
    };
  });
}
