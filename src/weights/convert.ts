// Checking a weights file against a backbone, and converting a PyTorch checkpoint into the
// .safetensors file the backbones load (torchvision's names; float32 values, int64
// num_batches_tracked, as torchvision's own state_dict() stores them).
import { createHash } from 'node:crypto';
import { openSync, readSync, closeSync } from 'node:fs';
import { basename } from 'node:path';
import { writeFileAtomicSync } from '../io/atomic.js';
import { compareState, describeStateCheck, expectedState, type StateCheck } from '../models/backbones/state.js';
import { checkWeightsArch, ignoredPrefixes, type WeightsArch } from '../models/backbones/state.js';
import { parseSafetensors, serializeSafetensors, toFloat32, type RawTensor, type SafetensorsDtype } from '../nn/safetensors-format.js';
import { parsePth, type PthContent } from './pth/reader.js';
import { readFileSync } from 'node:fs';

export type WeightsFormat = 'zip' | 'legacy' | 'safetensors';

/** What `weights check` reports: StateCheck (missing, extra, mis-shaped, ignored classifier, absent num_batches_tracked) and more. */
export interface WeightsReport extends StateCheck {
  arch: WeightsArch;
  file: string;
  /** torch.save's zip archive, its legacy (pre-1.6) format, or safetensors. */
  format: WeightsFormat;
  /** Where the state dict sat inside the checkpoint ('state_dict', 'model', ...); null when the file is one. */
  key: string | null;
  /** Tensors in the file. */
  tensors: number;
  /** Tensors holding NaN or ±Inf, with the count of such values (any makes the file unusable). */
  nonFinite: { name: string; count: number }[];
  /** Dtype conversions to what the backbone stores (e.g. F16 → F32 for 62 tensors). */
  conversions: { from: SafetensorsDtype; to: SafetensorsDtype; count: number }[];
  /** A paragraph saying what is wrong; empty when ok. */
  message: string;
}

export function sha256OfBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** SHA-256 of a file, read in chunks. */
export function sha256OfFile(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 22);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** What a file's first bytes say it is. */
export function sniffFormat(bytes: Uint8Array): 'zip' | 'pickle' | 'safetensors' | 'unknown' {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b) return 'zip';
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) return 'pickle';
  if (bytes.length >= 9 && bytes[8] === 0x7b) {
    const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
    if (n > 0n && n < 100_000_000n) return 'safetensors';
  }
  return 'unknown';
}

interface Loaded {
  format: WeightsFormat;
  key: string | null;
  tensors: Map<string, RawTensor>;
  /** Classifier tensors left unread: shapes only. */
  skipped?: Map<string, { shape: number[] }>;
}

/** The second file of a combined architecture (lpips_squeeze: the SqueezeNet 1.1 checkpoint). */
export interface TrunkSource {
  bytes: Uint8Array;
  /** Its name in messages. */
  source: string;
}

function readBytes(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/**
 * lpips_squeeze's two published files in one tensor map: squeeze.pth's lin layers and the
 * trunk's `features.*` (its classifier skipped). A name in both is refused, never chosen.
 */
function mergeTrunk(arch: WeightsArch, main: Loaded, trunk: TrunkSource | undefined, source: string): Loaded {
  if (!trunk) return main;
  if (arch !== 'lpips_squeeze') throw new Error(`${source}: a trunk file (--trunk) applies to lpips_squeeze only, not ${arch}`);
  const kind = sniffFormat(trunk.bytes);
  const t =
    kind === 'safetensors'
      ? { tensors: parseSafetensors(trunk.bytes, trunk.source).tensors, skipped: undefined }
      : parsePth(trunk.bytes, trunk.source, { skip: (n) => ignoredPrefixes(arch).some((h) => n.startsWith(h)) });
  const both = [...t.tensors.keys()].filter((k) => main.tensors.has(k));
  if (both.length) throw new Error(`${source} and the trunk ${trunk.source} both hold ${both.slice(0, 5).join(', ')}${both.length > 5 ? ', …' : ''}: give the LPIPS lin-layer file and the SqueezeNet file, one each`);
  const skipped = new Map([...(main.skipped ?? []), ...(t.skipped ?? [])]);
  return { ...main, tensors: new Map([...main.tensors, ...t.tensors]), skipped };
}

function loadAny(file: string, arch: WeightsArch, opts: { key?: string; trunk?: string }): Loaded {
  const trunk = opts.trunk ? { bytes: readBytes(opts.trunk), source: opts.trunk } : undefined;
  return mergeTrunk(arch, loadOne(file, arch, opts), trunk, file);
}

function loadOne(file: string, arch: WeightsArch, opts: { key?: string }): Loaded {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  const kind = sniffFormat(bytes);
  if (kind === 'safetensors') {
    if (opts.key) throw new Error(`${file}: --key applies to PyTorch checkpoints, and this is a safetensors file`);
    return { format: 'safetensors', key: null, tensors: parseSafetensors(bytes, file).tensors };
  }
  if (kind === 'unknown' && bytes.length > 0) {
    throw new Error(`${file}: neither a PyTorch checkpoint (.pth: a zip archive or a pickle) nor a safetensors file`);
  }
  const c: PthContent = parsePth(bytes, file, { key: opts.key, skip: (n) => ignoredPrefixes(arch).some((h) => n.startsWith(h)) });
  return { format: c.format, key: c.key, tensors: c.tensors, skipped: c.skipped };
}

let halfTable: Float32Array | null = null;

/** float16 → float32 through a 65536-entry table (exact: every half is a float32). */
export function halfToFloat32(h: Uint16Array): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) {
      const e = (i >> 10) & 0x1f;
      const f = i & 0x3ff;
      const v = e === 0 ? f * 2 ** -24 : e === 31 ? (f ? NaN : Infinity) : (1 + f / 1024) * 2 ** (e - 15);
      halfTable[i] = i & 0x8000 ? -v : v;
    }
  }
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) out[i] = halfTable[h[i]];
  return out;
}

const f32Cache = new WeakMap<RawTensor, Float32Array>();

/** A float tensor's values as float32 (converted once per tensor). */
function asF32(t: RawTensor): Float32Array {
  let v = f32Cache.get(t);
  if (!v) {
    v = t.dtype === 'F16' ? halfToFloat32(t.data as Uint16Array) : t.dtype === 'F32' ? (t.data as Float32Array) : Float32Array.from(toFloat32(t));
    f32Cache.set(t, v);
  }
  return v;
}

function countNonFinite(t: RawTensor): number {
  if (!(t.dtype === 'F32' || t.dtype === 'F64' || t.dtype === 'F16' || t.dtype === 'BF16')) return 0;
  const v = asF32(t);
  let bad = 0;
  for (let i = 0; i < v.length; i++) if (v[i] - v[i] !== 0) bad++;
  return bad;
}

/** The dtype each expected tensor is written as. */
function targetDtype(dtype: 'float32' | 'int64'): SafetensorsDtype {
  return dtype === 'int64' ? 'I64' : 'F32';
}

function report(arch: WeightsArch, file: string, loaded: Loaded): WeightsReport {
  const check = compareState(arch, loaded.skipped?.size ? new Map<string, { shape: readonly number[] }>([...loaded.tensors, ...loaded.skipped]) : loaded.tensors);
  const expected = new Map(expectedState(arch).map((e) => [e.name, e]));
  const conv = new Map<string, number>();
  const nonFinite: WeightsReport['nonFinite'] = [];
  for (const [name, t] of loaded.tensors) {
    const e = expected.get(name);
    if (!e) continue;
    const to = targetDtype(e.dtype);
    if (t.dtype !== to) conv.set(`${t.dtype}>${to}`, (conv.get(`${t.dtype}>${to}`) ?? 0) + 1);
    const bad = countNonFinite(t);
    if (bad) nonFinite.push({ name, count: bad });
  }
  const conversions = [...conv].map(([k, count]) => {
    const [from, to] = k.split('>') as [SafetensorsDtype, SafetensorsDtype];
    return { from, to, count };
  });
  const ok = check.ok && nonFinite.length === 0;
  let message = describeStateCheck(arch, check);
  if (nonFinite.length) {
    const nf = `${nonFinite.length} tensor(s) hold NaN or ±Inf (${nonFinite
      .slice(0, 5)
      .map((n) => `${n.name}: ${n.count}`)
      .join(', ')}${nonFinite.length > 5 ? ', …' : ''}): the weights are corrupt or from a diverged run`;
    message = message ? `${message}. Also ${nf}` : nf;
  }
  return { ...check, ok, arch, file, format: loaded.format, key: loaded.key, tensors: loaded.tensors.size + (loaded.skipped?.size ?? 0), nonFinite, conversions, message };
}

/**
 * Checks a weights file (a .pth checkpoint or a .safetensors file) against torchvision's
 * state dict of `arch`: missing, extra and mis-shaped tensors, the classifier it ignores,
 * NaN/Inf, and the dtype conversions an import does. Reads the file; writes nothing.
 */
export function checkWeights(file: string, arch: WeightsArch, opts: { key?: string; trunk?: string } = {}): WeightsReport {
  checkWeightsArch(arch, 'checkWeights');
  return report(arch, file, loadAny(file, arch, opts));
}

/** The tensors to write for `arch`: expected order, stored dtypes, classifier dropped, absent num_batches_tracked = 0. */
function storable(arch: WeightsArch, tensors: Map<string, RawTensor>): [string, RawTensor][] {
  const out: [string, RawTensor][] = [];
  for (const e of expectedState(arch)) {
    const t = tensors.get(e.name);
    if (!t) {
      // compareState accepted it as absent: torchvision's own value for a fresh network.
      out.push([e.name, { dtype: 'I64', shape: [], data: new BigInt64Array(1) }]);
      continue;
    }
    if (e.dtype === 'int64') {
      if (t.dtype === 'I64') out.push([e.name, t]);
      else {
        const f = t.dtype === 'I32' || t.dtype === 'I16' || t.dtype === 'I8' || t.dtype === 'U8' || t.dtype === 'BOOL' ? Array.from(t.data as ArrayLike<number>) : Array.from(asF32(t));
        out.push([e.name, { dtype: 'I64', shape: t.shape, data: BigInt64Array.from(f, (v) => BigInt(Math.round(v))) }]);
      }
    } else {
      out.push([e.name, t.dtype === 'F32' ? t : { dtype: 'F32', shape: t.shape, data: asF32(t) }]);
    }
  }
  return out;
}

export interface ImportResult {
  report: WeightsReport;
  /** The file written. */
  out: string;
  /** SHA-256 of the file written (what methods record). */
  sha256: string;
  /** SHA-256 of the source file. */
  sourceSha256: string;
  bytes: number;
}

export interface ImportOptions {
  arch: WeightsArch;
  out: string;
  /** lpips_squeeze: the SqueezeNet 1.1 checkpoint (torchvision's squeezenet1_1-b8a52dc0.pth) combined with the lin-layer file. */
  trunk?: string;
  /** Where the state dict sits in a larger checkpoint ('model', 'checkpoint.state_dict'); found alone when there is one. */
  key?: string;
}

/** Builds the safetensors bytes from a checkpoint held in memory (refuses, with the report's message, one that does not fit). */
export function convertPth(
  bytes: Uint8Array,
  source: string,
  opts: { arch: WeightsArch; key?: string; metadata?: Record<string, string>; trunk?: TrunkSource },
): { bytes: Uint8Array; report: WeightsReport } {
  checkWeightsArch(opts.arch, 'importPth');
  const kind = sniffFormat(bytes);
  if (kind === 'safetensors') throw new Error(`${source} is already a safetensors file: check it with medianomaly weights check ${source} --arch ${opts.arch}, and use it as it is`);
  const c = parsePth(bytes, source, { key: opts.key, skip: (n) => ignoredPrefixes(opts.arch).some((h) => n.startsWith(h)) });
  const loaded = mergeTrunk(opts.arch, { format: c.format, key: c.key, tensors: c.tensors, skipped: c.skipped }, opts.trunk, source);
  const r = report(opts.arch, source, loaded);
  if (!r.ok) throw new Error(`${source}${opts.trunk ? ` with ${opts.trunk.source}` : ''} is ${r.message.startsWith('not ') ? '' : 'unusable: '}${r.message}`);
  const metadata = {
    format: 'pt',
    arch: opts.arch,
    source: basename(source),
    source_sha256: sha256OfBytes(bytes),
    ...(c.key ? { source_key: c.key } : {}),
    ...(opts.trunk ? { trunk: basename(opts.trunk.source), trunk_sha256: sha256OfBytes(opts.trunk.bytes) } : {}),
    ...opts.metadata,
  };
  return { bytes: serializeSafetensors(storable(opts.arch, loaded.tensors), metadata), report: r };
}

/**
 * Converts a PyTorch checkpoint (.pth) holding torchvision's state dict of `arch` into a
 * .safetensors file at `out` (atomically): checked first (a file that does not fit is
 * refused with every offending name), floats converted to float32, the classifier dropped,
 * an absent num_batches_tracked written as 0. The checkpoint is read with the restricted
 * unpickler: nothing in it runs.
 */
export function importPth(file: string, opts: ImportOptions): ImportResult {
  const bytes = readBytes(file);
  const trunk = opts.trunk ? { bytes: readBytes(opts.trunk), source: opts.trunk } : undefined;
  const { bytes: out, report: r } = convertPth(bytes, file, { arch: opts.arch, key: opts.key, trunk });
  writeFileAtomicSync(opts.out, out);
  return { report: r, out: opts.out, sha256: sha256OfBytes(out), sourceSha256: sha256OfBytes(bytes), bytes: out.length };
}
