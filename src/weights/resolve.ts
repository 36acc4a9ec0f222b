// Which weights file a backbone loads: the contract methods use (resolveWeights). Nothing
// here downloads: an absent cached file is an error naming `medianomaly weights fetch`.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { checkWeightsArch, compareState, describeStateCheck, type WeightsArch } from '../models/backbones/state.js';
import { cachePaths, describeSources, readCacheRecord, weightsCacheDir } from './cache.js';
import { sha256OfFile, sniffFormat } from './convert.js';

export interface ResolvedWeights {
  /** A .safetensors path, or 'random'. */
  path: string;
  /** SHA-256 of the file (null for random weights): methods record it. */
  sha256: string | null;
}

// Hashing a 270 MB file takes a while; validate() and fit() both resolve. Keyed by what a
// rewrite changes (size, mtime, inode).
const shaMemo = new Map<string, { key: string; sha: string }>();

function fileSha(path: string): string {
  const st = statSync(path);
  const key = `${st.size}:${st.mtimeMs}:${st.ino}`;
  const m = shaMemo.get(path);
  if (m && m.key === key) return m.sha;
  const sha = sha256OfFile(path);
  shaMemo.set(path, { key, sha });
  return sha;
}

function readHead(path: string, n: number, at = 0): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, at);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** Names and shapes from a safetensors header, without reading the tensors. */
function headerEntries(path: string): { name: string; shape: number[] }[] {
  const head = readHead(path, 8);
  const n = Number(new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true));
  const json = readHead(path, n, 8);
  if (json.length !== n) throw new Error(`${path}: the safetensors header runs past the end of the file: truncated`);
  let header: Record<string, { shape?: unknown }>;
  try {
    header = JSON.parse(new TextDecoder().decode(json));
  } catch (e) {
    throw new Error(`${path}: the safetensors header is not valid JSON (${(e as Error).message})`);
  }
  return Object.entries(header)
    .filter(([k]) => k !== '__metadata__')
    .map(([name, v]) => ({ name, shape: Array.isArray(v?.shape) ? (v.shape as number[]) : [] }));
}

const OPTION_HINT = 'set the weights option to a .safetensors file made by `medianomaly weights import` (CLI: `--weights FILE.safetensors`) or to random weights (`--weights random`; for tests, not for results)';

/**
 * The safetensors path to load for `arch`: `spec` null/undefined → the cached file of
 * `weights fetch` (an error naming `medianomaly weights fetch <arch>` when there is none); 'random' →
 * random weights; a path → that .safetensors file, checked against the architecture (its
 * header only). A .pth is refused with the import command that converts it: conversion is
 * an explicit step, so the file the method records is one the user can see.
 */
export function resolveWeights(arch: WeightsArch, spec?: string | null): ResolvedWeights {
  checkWeightsArch(arch, 'resolveWeights');
  if (spec === 'random') return { path: 'random', sha256: null };
  if (spec === null || spec === undefined || spec === '') {
    const dir = weightsCacheDir();
    const { record, problem } = readCacheRecord(arch, dir);
    if (!record) {
      throw new Error(
        `no ${arch === 'lpips_squeeze' ? 'LPIPS-squeeze' : 'ImageNet'} weights for ${arch} in the weights cache ${dir}${problem ? ` (${problem})` : ''}: download them once with \`medianomaly weights fetch ${arch}\` ` +
          `(${describeSources(arch)}, verified by SHA-256; MEDIANOMALY_WEIGHTS moves the cache), or ${OPTION_HINT}`,
      );
    }
    const path = cachePaths(arch, dir).weights;
    const sha = fileSha(path);
    if (sha !== record.sha256) {
      throw new Error(`the cached ${arch} weights ${path} have SHA-256 ${sha}, but were cached with ${record.sha256}: the file changed or is corrupt; fetch it again with \`medianomaly weights fetch ${arch} --force\``);
    }
    return { path, sha256: sha };
  }
  if (typeof spec !== 'string') throw new TypeError(`weights must be null (the cached file of \`weights fetch\`), 'random' or a .safetensors path, got ${JSON.stringify(spec)}`);
  if (!existsSync(spec)) throw new Error(`weights file ${spec} does not exist; ${OPTION_HINT}, or leave it unset for the cached file (\`medianomaly weights fetch ${arch}\`)`);
  if (!statSync(spec).isFile()) throw new Error(`weights ${spec} is not a file`);
  const kind = sniffFormat(readHead(spec, 16));
  if (kind === 'zip' || kind === 'pickle') {
    const trunk = arch === 'lpips_squeeze' ? ' --trunk squeezenet1_1-b8a52dc0.pth' : '';
    throw new Error(`weights ${spec} is a PyTorch checkpoint; convert it once with \`medianomaly weights import ${spec} --arch ${arch}${trunk} --out ${spec.replace(/\.(pth|pt|bin|ckpt|tar)$/i, '')}.safetensors\` and give the .safetensors file`);
  }
  if (kind !== 'safetensors') throw new Error(`weights ${spec} is not a safetensors file; ${OPTION_HINT}`);
  const check = compareState(arch, headerEntries(spec));
  if (!check.ok) throw new Error(`weights ${spec} is ${describeStateCheck(arch, check)}`);
  return { path: spec, sha256: fileSha(spec) };
}
