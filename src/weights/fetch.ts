// `medianomaly weights fetch`: the one place that downloads. It gets the published files of an
// architecture (torchvision's backbone file; for lpips_squeeze LPIPS v0.1's squeeze.pth and
// torchvision's squeezenet1_1-b8a52dc0.pth), checks each file's SHA-256 — against the full hash
// the table or --sha256 gives, else against the prefix its name carries (torch hub's rule:
// name-<hex>.pth) — converts them (checked against the architecture; lpips_squeeze's two in one
// file) and caches the .safetensors with a JSON record, atomically. A file with no hash to check
// is refused before anything is downloaded. Nothing is cached when any step fails.
import { mkdirSync } from 'node:fs';
import { writeFileAtomicSync } from '../io/atomic.js';
import { checkWeightsArch, type WeightsArch } from '../models/backbones/state.js';
import { cachePaths, weightsCacheDir, weightsSources, type CacheRecord, type SourceRecord, type WeightsSource } from './cache.js';
import { convertPth, sha256OfBytes, sniffFormat, type WeightsReport } from './convert.js';

export interface FetchProgress {
  /** The file being downloaded (lpips_squeeze downloads two). */
  file?: string;
  received: number;
  /** From Content-Length; null when the server does not say. */
  total: number | null;
}

export interface FetchOptions {
  /**
   * Where to download from: a folder URL holding the published file names (a mirror), or, for
   * an architecture made of one file, the full URL of a .pth (default: where each file is
   * published, https://download.pytorch.org/models/ for torchvision's).
   */
  url?: string;
  /**
   * The full SHA-256 a file must have, checked in place of the prefix in its name (needed for a
   * file whose name carries none, LPIPS's squeeze.pth): a string for the main file (the
   * backbone's; squeeze.pth), or published file name → hash for any of them.
   */
  sha256?: string | Record<string, string>;
  /** The cache folder (default weightsCacheDir()). */
  cacheDir?: string;
  onProgress?: (p: FetchProgress) => void;
  /** Aborts the download. */
  signal?: AbortSignal;
  /** Seconds without a byte before the download is given up (default 60). */
  stallSeconds?: number;
}

export interface FetchResult {
  arch: WeightsArch;
  path: string;
  /** SHA-256 of the cached .safetensors. */
  sha256: string;
  url: string;
  /** SHA-256 of the downloaded .pth (the main one). */
  sourceSha256: string;
  /** lpips_squeeze: SHA-256 of the downloaded SqueezeNet file. */
  trunkSha256?: string;
  report: WeightsReport;
}

/** torch hub's rule: the hex digits after the last '-' before the extension are a prefix of the file's SHA-256. */
export function hashPrefixOf(fileName: string): string | null {
  const m = /-([a-f0-9]+)\.[^/]*$/.exec(fileName);
  return m && m[1].length >= 8 ? m[1] : null;
}

/** The URL to download `arch`'s main file from, given `url` (a folder or a full .pth URL). */
export function weightsUrl(arch: WeightsArch, url?: string): string {
  return sourceUrl(arch, weightsSources(arch)[0], url);
}

function sourceUrl(arch: WeightsArch, src: WeightsSource, url?: string): string {
  if (url === undefined) return src.baseUrl + src.file;
  if (/\.(pth|pt)(\?.*)?$/.test(url)) {
    if (weightsSources(arch).length > 1) throw new Error(`${arch} is made of ${weightsSources(arch).map((s) => s.file).join(' and ')}: give --url as a folder holding both, not the URL of one file`);
    return url;
  }
  return `${url.replace(/\/+$/, '')}/${src.file}`;
}

/** The import command that converts the published file(s) of `arch` downloaded by hand. */
function importCommand(arch: WeightsArch): string {
  const files = weightsSources(arch).map((s) => s.file);
  return `medianomaly weights import ${files[0]} --arch ${arch}${files[1] ? ` --trunk ${files[1]}` : ''} --out FILE.safetensors`;
}

function networkHint(arch: WeightsArch): string {
  const files = weightsSources(arch).map((s) => s.file);
  return `check the network connection; or download ${files.join(' and ')} another way and convert ${files.length > 1 ? 'them' : 'it'} with: ${importCommand(arch)} (then give that file as the weights option)`;
}

/** The SHA-256 check for one source, decided before anything is downloaded. */
function hashCheck(arch: WeightsArch, src: WeightsSource, url: string, main: boolean, option?: string | Record<string, string>): { full: string } | { prefix: string } {
  const given = typeof option === 'string' ? (main ? option : undefined) : option?.[src.file];
  if (given !== undefined) {
    if (!/^[0-9a-fA-F]{64}$/.test(given)) throw new Error(`--sha256 must be 64 hex digits (the SHA-256 of ${src.file}), got ${JSON.stringify(given)}`);
    return { full: given.toLowerCase() };
  }
  if (src.sha256) return { full: src.sha256 };
  const fileName = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  const prefix = hashPrefixOf(fileName);
  if (prefix) return { prefix };
  if (src.role === 'lpips') {
    throw new Error(
      `${url}: LPIPS publishes no SHA-256 for ${src.file} and its name carries none, so the download could not be verified; nothing was downloaded. ` +
        `Give the hash you trust with --sha256 (e.g. sha256sum of lpips/weights/v0.1/${src.file} from the lpips package), or download the files yourself and combine them: ${importCommand(arch)}`,
    );
  }
  throw new Error(`${url}: the file name ${JSON.stringify(fileName)} carries no SHA-256 prefix (name-<8+ hex digits>.pth, as torchvision's do), so the download could not be verified; nothing was downloaded`);
}

async function download(url: string, arch: WeightsArch, file: string, opts: FetchOptions): Promise<Uint8Array> {
  const stallMs = (opts.stallSeconds ?? 60) * 1000;
  const ctl = new AbortController();
  let stalled = false;
  let timer = setTimeout(() => ((stalled = true), ctl.abort()), stallMs);
  const onAbort = () => ctl.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const why = (e: unknown): string => {
    if (stalled) return `no data for ${stallMs / 1000} s`;
    if (opts.signal?.aborted) return 'aborted';
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ? `${cause.code}${cause.message && !cause.message.includes(cause.code) ? `: ${cause.message}` : ''}` : ((e as Error).message ?? String(e));
  };
  try {
    let res: Response;
    try {
      res = await fetch(url, { signal: ctl.signal, redirect: 'follow' });
    } catch (e) {
      throw new Error(`cannot download ${url} (${why(e)}): ${networkHint(arch)}`);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`cannot download ${url}: the server answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${res.status === 404 ? ' (no such file there: check --url)' : ''}`);
    }
    const lenHeader = res.headers.get('content-length');
    const total = lenHeader !== null && /^\d+$/.test(lenHeader) ? Number(lenHeader) : null;
    // Into one buffer of the announced size (VGG19's file is 548 MB: no second copy), else chunks.
    const whole = total !== null ? new Uint8Array(total) : null;
    const chunks: Uint8Array[] = [];
    let received = 0;
    opts.onProgress?.({ file, received, total });
    try {
      if (res.body) {
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          clearTimeout(timer);
          timer = setTimeout(() => ((stalled = true), ctl.abort()), stallMs);
          if (whole) {
            if (received + value.length > whole.length) {
              await reader.cancel().catch(() => {});
              throw new Error(`the server sent more than the ${total} bytes it announced`);
            }
            whole.set(value, received);
          } else chunks.push(value);
          received += value.length;
          opts.onProgress?.({ file, received, total });
        }
      }
    } catch (e) {
      if (/more than the/.test((e as Error).message)) throw new Error(`the download of ${url} is corrupt: ${(e as Error).message}`);
      throw new Error(`the download of ${url} broke off after ${received} bytes (${why(e)}): run the fetch again; ${networkHint(arch)}`);
    }
    if (whole) {
      if (received !== total) throw new Error(`the download of ${url} ended after ${received} of ${total} bytes: run the fetch again`);
      return whole;
    }
    const out = new Uint8Array(received);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Downloads the published weights of `arch` (see weightsSources), verifies each file's SHA-256
 * (full hash, or the prefix its name carries), converts and checks them, and caches
 * `<cacheDir>/<arch>.safetensors` plus `<arch>.json` (source URLs, SHA-256s). Throws (caching
 * nothing) on a file with no hash to check (before any download), an HTTP error, a network
 * failure, a hash mismatch or files that do not fit the architecture.
 */
export async function fetchWeights(arch: WeightsArch, opts: FetchOptions = {}): Promise<FetchResult> {
  checkWeightsArch(arch, 'fetchWeights');
  const plan = weightsSources(arch).map((src, i) => {
    const url = sourceUrl(arch, src, opts.url);
    return { src, url, fileName: decodeURIComponent(new URL(url).pathname.split('/').pop() ?? ''), check: hashCheck(arch, src, url, i === 0, opts.sha256) };
  });
  const dir = opts.cacheDir ?? weightsCacheDir();
  const got: { bytes: Uint8Array; sha: string }[] = [];
  for (const p of plan) {
    const bytes = await download(p.url, arch, p.fileName, opts);
    const sha = sha256OfBytes(bytes);
    const ok = 'full' in p.check ? sha === p.check.full : sha.startsWith(p.check.prefix);
    if (!ok) {
      throw new Error(
        `${p.url}: the SHA-256 of the ${bytes.length} bytes downloaded is ${sha}, but ${'full' in p.check ? `it must be ${p.check.full}` : `the file name says it starts with ${p.check.prefix}`}: ` +
          'the download is corrupt or the file is not the published one; nothing was cached. Run the fetch again, or check --url' +
          ('full' in p.check && opts.sha256 !== undefined ? ' and --sha256' : ''),
      );
    }
    got.push({ bytes, sha });
  }
  const trunk = got.length > 1 ? { bytes: got[1].bytes, source: plan[1].fileName } : undefined;
  const { bytes: out, report } = convertPth(got[0].bytes, plan[0].fileName, { arch, trunk });
  const sha256 = sha256OfBytes(out);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new Error(`cannot create the weights cache folder ${dir}: ${(e as Error).message} (set MEDIANOMALY_WEIGHTS to a writable folder)`);
  }
  const paths = cachePaths(arch, dir);
  writeFileAtomicSync(paths.weights, out);
  const sourceRecord = (i: number): SourceRecord => {
    const kind = sniffFormat(got[i].bytes.subarray(0, 16));
    return { url: plan[i].url, file: plan[i].fileName, sha256: got[i].sha, bytes: got[i].bytes.length, format: i === 0 ? report.format : kind === 'zip' ? 'zip' : kind === 'pickle' ? 'legacy' : kind };
  };
  const record: CacheRecord = {
    arch,
    sha256,
    bytes: out.length,
    source: sourceRecord(0),
    ...(got.length > 1 ? { trunk: sourceRecord(1) } : {}),
    conversions: report.conversions,
    fetched: new Date().toISOString(),
  };
  writeFileAtomicSync(paths.record, JSON.stringify(record, null, 2) + '\n');
  return { arch, path: paths.weights, sha256, url: plan[0].url, sourceSha256: got[0].sha, ...(got.length > 1 ? { trunkSha256: got[1].sha } : {}), report };
}
