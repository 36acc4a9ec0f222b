// The weights cache: one converted .safetensors per backbone under weightsCacheDir(), with a
// small JSON beside it recording where it came from (URL, the source file's SHA-256) and the
// SHA-256 of the converted file. Only `medianomaly weights fetch` writes it.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BackboneName } from '../models/backbones/base.js';
import { WEIGHTS_ARCHS, type WeightsArch } from '../models/backbones/state.js';

/** torchvision's published ImageNet weights (IMAGENET1K_V1), as its model builders name them. */
export const TORCHVISION_WEIGHTS: Record<BackboneName, string> = {
  resnet18: 'resnet18-f37072fd.pth',
  wide_resnet50_2: 'wide_resnet50_2-95faca4d.pth',
  vgg19: 'vgg19-dcbb9e9d.pth',
};

export const TORCHVISION_BASE_URL = 'https://download.pytorch.org/models/';

/** torchvision's SqueezeNet 1.1 ImageNet weights (IMAGENET1K_V1): LPIPS-squeeze's trunk. */
export const SQUEEZENET1_1_WEIGHTS = 'squeezenet1_1-b8a52dc0.pth';

/** LPIPS v0.1's linear layers for the SqueezeNet trunk, as lpips/pretrained_networks.py downloads them. */
export const LPIPS_SQUEEZE_WEIGHTS = 'squeeze.pth';
export const LPIPS_BASE_URL = 'https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/';
/**
 * The SHA-256 squeeze.pth must have. The LPIPS repository publishes no hash and the file name
 * carries none, so it is unknown here (null): `weights fetch lpips_squeeze` then refuses to
 * download unless given the hash to check (`--sha256`), as it refuses any unverifiable file.
 * Fill it in once the published file's hash has been established.
 */
export const LPIPS_SQUEEZE_SHA256: string | null = null;

/** One file `weights fetch` downloads for an architecture. */
export interface WeightsSource {
  /** What it holds: a whole backbone, LPIPS's linear layers, or the trunk combined with them. */
  role: 'backbone' | 'lpips' | 'trunk';
  file: string;
  baseUrl: string;
  /** The full SHA-256 it must have; null: the torch-hub prefix its name carries, if any (fetch.ts). */
  sha256: string | null;
}

/** The files `arch`'s cached .safetensors is made from, the first the main one (its record's `source`). */
export function weightsSources(arch: WeightsArch): WeightsSource[] {
  if (arch === 'lpips_squeeze') {
    return [
      { role: 'lpips', file: LPIPS_SQUEEZE_WEIGHTS, baseUrl: LPIPS_BASE_URL, sha256: LPIPS_SQUEEZE_SHA256 },
      { role: 'trunk', file: SQUEEZENET1_1_WEIGHTS, baseUrl: TORCHVISION_BASE_URL, sha256: null },
    ];
  }
  return [{ role: 'backbone', file: TORCHVISION_WEIGHTS[arch], baseUrl: TORCHVISION_BASE_URL, sha256: null }];
}

/** The published files of `arch` in words, for messages. */
export function describeSources(arch: WeightsArch): string {
  if (arch === 'lpips_squeeze') return `LPIPS v0.1's ${LPIPS_SQUEEZE_WEIGHTS} and torchvision's ${SQUEEZENET1_1_WEIGHTS}`;
  return `torchvision's ${TORCHVISION_WEIGHTS[arch]}`;
}

/** The folder of cached weights: MEDIANOMALY_WEIGHTS, or ~/.cache/medianomaly. */
export function weightsCacheDir(): string {
  const env = process.env.MEDIANOMALY_WEIGHTS;
  return env ? resolve(env) : join(homedir(), '.cache', 'medianomaly');
}

export interface SourceRecord {
  url: string;
  file: string;
  sha256: string;
  bytes: number;
  format: string;
}

export interface CacheRecord {
  arch: WeightsArch;
  /** SHA-256 of the cached .safetensors file. */
  sha256: string;
  bytes: number;
  source: SourceRecord;
  /** lpips_squeeze: the SqueezeNet file combined with `source`. */
  trunk?: SourceRecord;
  conversions: { from: string; to: string; count: number }[];
  fetched: string;
}

export function cachePaths(arch: WeightsArch, dir = weightsCacheDir()): { weights: string; record: string } {
  return { weights: join(dir, `${arch}.safetensors`), record: join(dir, `${arch}.json`) };
}

/** The cache record of `arch`, or why there is none usable (not fetched, incomplete, unreadable). */
export function readCacheRecord(arch: WeightsArch, dir = weightsCacheDir()): { record: CacheRecord | null; problem: string | null } {
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
  arch: WeightsArch;
  path: string;
  cached: boolean;
  bytes?: number;
  sha256?: string;
  sourceUrl?: string;
  fetched?: string;
  problem?: string;
}

/** What the cache holds, one row per architecture (nothing is hashed: see resolveWeights for the check). */
export function listCachedWeights(dir = weightsCacheDir()): CachedWeights[] {
  return WEIGHTS_ARCHS.map((arch) => {
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
