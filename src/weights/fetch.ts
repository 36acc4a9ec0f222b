// `medianomaly weights fetch`: the one place that downloads. It gets torchvision's published
// file, checks that the SHA-256 of the bytes starts with the hash its file name carries
// (torch hub's rule: name-<hex>.pth), converts it (checked against the architecture) and
// caches the .safetensors with a JSON record, atomically. Nothing is cached when any step
// fails.
import { mkdirSync } from 'node:fs';
import { writeFileAtomicSync } from '../io/atomic.js';
import type { BackboneName } from '../models/backbones/base.js';
import { checkBackboneName } from '../models/backbones/state.js';
import { cachePaths, TORCHVISION_BASE_URL, TORCHVISION_WEIGHTS, weightsCacheDir, type CacheRecord } from './cache.js';
import { convertPth, sha256OfBytes, type WeightsReport } from './convert.js';

export interface FetchProgress {
  received: number;
  /** From Content-Length; null when the server does not say. */
  total: number | null;
}

export interface FetchOptions {
  /** Where to download from: a folder URL holding torchvision's file name, or the full URL of a .pth (default https://download.pytorch.org/models/). */
  url?: string;
  /** The cache folder (default weightsCacheDir()). */
  cacheDir?: string;
  onProgress?: (p: FetchProgress) => void;
  /** Aborts the download. */
  signal?: AbortSignal;
  /** Seconds without a byte before the download is given up (default 60). */
  stallSeconds?: number;
}

export interface FetchResult {
  arch: BackboneName;
  path: string;
  /** SHA-256 of the cached .safetensors. */
  sha256: string;
  url: string;
  /** SHA-256 of the downloaded .pth. */
  sourceSha256: string;
  report: WeightsReport;
}

/** torch hub's rule: the hex digits after the last '-' before the extension are a prefix of the file's SHA-256. */
export function hashPrefixOf(fileName: string): string | null {
  const m = /-([a-f0-9]+)\.[^/]*$/.exec(fileName);
  return m && m[1].length >= 8 ? m[1] : null;
}

/** The URL to download `arch` from, given `url` (a folder or a full .pth URL). */
export function weightsUrl(arch: BackboneName, url = TORCHVISION_BASE_URL): string {
  if (/\.(pth|pt)(\?.*)?$/.test(url)) return url;
  return `${url.replace(/\/+$/, '')}/${TORCHVISION_WEIGHTS[arch]}`;
}

function networkHint(arch: BackboneName): string {
  return `check the network connection; or download ${TORCHVISION_WEIGHTS[arch]} another way and convert it with: medianomaly weights import ${TORCHVISION_WEIGHTS[arch]} --arch ${arch} --out FILE.safetensors (then give that file as the weights option)`;
}

async function download(url: string, arch: BackboneName, opts: FetchOptions): Promise<Uint8Array> {
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
    opts.onProgress?.({ received, total });
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
          opts.onProgress?.({ received, total });
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
 * Downloads torchvision's ImageNet weights for `arch`, verifies the SHA-256 prefix its file
 * name carries, converts and checks them, and caches `<cacheDir>/<arch>.safetensors` plus
 * `<arch>.json` (source URL, SHA-256s). Throws (caching nothing) on an HTTP error, a
 * network failure, a hash mismatch or a file that does not fit the architecture.
 */
export async function fetchWeights(arch: BackboneName, opts: FetchOptions = {}): Promise<FetchResult> {
  checkBackboneName(arch, 'fetchWeights');
  const url = weightsUrl(arch, opts.url);
  const fileName = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  const prefix = hashPrefixOf(fileName);
  if (!prefix) {
    throw new Error(`${url}: the file name ${JSON.stringify(fileName)} carries no SHA-256 prefix (name-<8+ hex digits>.pth, as torchvision's do), so the download could not be verified; nothing was downloaded`);
  }
  const dir = opts.cacheDir ?? weightsCacheDir();
  const bytes = await download(url, arch, opts);
  const sourceSha256 = sha256OfBytes(bytes);
  if (!sourceSha256.startsWith(prefix)) {
    throw new Error(
      `${url}: the SHA-256 of the ${bytes.length} bytes downloaded is ${sourceSha256}, but the file name says it starts with ${prefix}: ` +
        'the download is corrupt or the file is not the published one; nothing was cached. Run the fetch again, or check --url',
    );
  }
  const { bytes: out, report } = convertPth(bytes, fileName, { arch });
  const sha256 = sha256OfBytes(out);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new Error(`cannot create the weights cache folder ${dir}: ${(e as Error).message} (set MEDIANOMALY_WEIGHTS to a writable folder)`);
  }
  const paths = cachePaths(arch, dir);
  writeFileAtomicSync(paths.weights, out);
  const record: CacheRecord = {
    arch,
    sha256,
    bytes: out.length,
    source: { url, file: fileName, sha256: sourceSha256, bytes: bytes.length, format: report.format },
    conversions: report.conversions,
    fetched: new Date().toISOString(),
  };
  writeFileAtomicSync(paths.record, JSON.stringify(record, null, 2) + '\n');
  return { arch, path: paths.weights, sha256, url, sourceSha256, report };
}
