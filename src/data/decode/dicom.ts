// DICOM (Part 10 files; dicom-parser for the data set, pixel handling here).
//
// Grayscale frames become Float32 in [0, 1]:
//   stored value → (bits stored, sign) → modality value = value · RescaleSlope + RescaleIntercept
//   → VOI: the first Window Center/Width when present (LINEAR, LINEAR_EXACT or SIGMOID, PS3.3
//     C.11.2.1.2), otherwise min–max over the frame (what DDAD-ASR's preprocess_cxr.py does
//     when it turns the RSNA/VinDr DICOMs into 8-bit PNGs)
//   → MONOCHROME1 inverted (1 − v), so that bright always means dense.
// RGB frames (8-bit, RGB or YBR_FULL, either planar configuration) stay 8-bit RGB.
// Uncompressed transfer syntaxes (implicit/explicit little endian, explicit big endian,
// deflated) and RLE Lossless are decoded; any other encapsulated syntax (JPEG, JPEG-LS,
// JPEG 2000, HTJ2K, MPEG) is an error that names it.
//
// Files that lie are refused with the tag named: Rows × Columns and Number of Frames are
// checked against the caps (../limits.ts) before a frame is decoded, a deflated data set
// inflates under the cap, and a Rescale Slope/Intercept that is not finite, or that maps a
// stored value outside float32, is an error rather than a flat or NaN image.

import dicomParser from 'dicom-parser';
import type { RawImage } from '../raw.js';
import { DecodeError, causeOf, thrownMessage } from '../errors.js';
import { type DecodeLimits, MAX_FRAMES, checkBytes, checkPixels, inflateRawCapped, resolveLimits } from '../limits.js';

export const DICOM_EXTENSIONS = ['.dcm', '.dicom', '.dic'];

const TS_IMPLICIT_LE = '1.2.840.10008.1.2';
const TS_EXPLICIT_LE = '1.2.840.10008.1.2.1';
const TS_DEFLATED_LE = '1.2.840.10008.1.2.1.99';
const TS_EXPLICIT_BE = '1.2.840.10008.1.2.2';
const TS_RLE = '1.2.840.10008.1.2.5';

const UNCOMPRESSED = new Set([TS_IMPLICIT_LE, TS_EXPLICIT_LE, TS_DEFLATED_LE, TS_EXPLICIT_BE]);

/** Names of the transfer syntaxes we recognise but cannot decode (for the error message). */
const COMPRESSED_NAMES: Record<string, string> = {
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline (Process 1)',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (Process 2 & 4)',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless, Non-Hierarchical (Process 14)',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless, First-Order Prediction (Process 14, SV1)',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 (Lossless Only)',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000 (Lossless Only)',
  '1.2.840.10008.1.2.4.202': 'High-Throughput JPEG 2000 with RPCL (Lossless Only)',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000',
  '1.2.840.10008.1.2.4.100': 'MPEG2 Main Profile / Main Level',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264 High Profile',
  '1.2.840.10008.1.2.4.103': 'MPEG-4 AVC/H.264 BD-compatible High Profile',
};

/** VOI: 'header' window when present (else min–max), always 'minmax', or 'none' (modality values, for masks). */
export type DicomWindow = 'header' | 'minmax' | 'none';

export interface DicomImage {
  path: string;
  transferSyntax: string;
  rows: number;
  columns: number;
  frames: number;
  samplesPerPixel: 1 | 3;
  photometric: string;
  bitsAllocated: number;
  bitsStored: number;
  signed: boolean;
  planar: boolean;
  slope: number;
  intercept: number;
  window?: { center: number; width: number; fn: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID' };
  /** Raw bytes of each frame (decompressed for RLE), in file byte order. */
  frameBytes(k: number): Uint8Array;
  bigEndian: boolean;
}

/** True when the buffer carries the Part 10 'DICM' magic at offset 128. */
export function hasDicomMagic(buf: Uint8Array): boolean {
  return buf.length >= 132 && buf[128] === 0x44 && buf[129] === 0x49 && buf[130] === 0x43 && buf[131] === 0x4d;
}

const FLT_MAX = 3.4028234663852886e38;

/** dicom-parser's hook for deflated data sets, inflating under the cap. */
function inflaterFor(path: string, limits: DecodeLimits) {
  return (arr: Uint8Array, position: number): Uint8Array => {
    const inflated = inflateRawCapped(arr.subarray(position), path, limits);
    checkBytes(position + inflated.length, 'the inflated file', path, limits);
    const full = new Uint8Array(position + inflated.length);
    full.set(arr.subarray(0, position), 0);
    full.set(inflated, position);
    return full;
  };
}

/** Parses the data set and checks that the pixel data is there and has the size the header implies. */
export function parseDicom(buf: Uint8Array, path: string, limitOptions: Partial<DecodeLimits> = {}): DicomImage {
  const limits = resolveLimits(limitOptions);
  let ds: dicomParser.DataSet;
  try {
    ds = dicomParser.parseDicom(buf, { inflater: inflaterFor(path, limits) } as dicomParser.ParseDicomOptions);
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    // dicom-parser throws strings and { exception, dataSet } objects, not Errors.
    throw new DecodeError(`cannot parse DICOM file ${path}: ${thrownMessage(err)}`, path, { cause: causeOf(err) });
  }
  const ts = (ds.string('x00020010') ?? TS_IMPLICIT_LE).replace(/\0/g, '').trim();
  if (!UNCOMPRESSED.has(ts) && ts !== TS_RLE) {
    const name = COMPRESSED_NAMES[ts] ?? 'an unknown transfer syntax';
    throw new DecodeError(
      `${path}: pixel data is encoded with ${name} (transfer syntax ${ts}), which this library cannot decode; ` +
        'convert the file to an uncompressed syntax (e.g. `gdcmconv --raw` or `dcmdjpeg`) first',
      path,
    );
  }
  const rows = ds.uint16('x00280010');
  const columns = ds.uint16('x00280011');
  const pixel = ds.elements.x7fe00010;
  if (!rows || !columns) throw new DecodeError(`${path}: DICOM file has no Rows/Columns, so it holds no image`, path);
  if (!pixel) throw new DecodeError(`${path}: DICOM file has no Pixel Data element (7FE0,0010)`, path);
  const samplesPerPixel = ds.uint16('x00280002') ?? 1;
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) {
    throw new DecodeError(`${path}: Samples per Pixel ${samplesPerPixel} is not supported (1 or 3)`, path);
  }
  const photometric = (ds.string('x00280004') ?? (samplesPerPixel === 1 ? 'MONOCHROME2' : 'RGB')).trim().toUpperCase();
  const bitsAllocated = ds.uint16('x00280100') ?? 16;
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated;
  const signed = (ds.uint16('x00280103') ?? 0) === 1;
  const planar = (ds.uint16('x00280006') ?? 0) === 1;
  const framesStr = ds.intString('x00280008');
  const frames = framesStr !== undefined && framesStr > 0 ? framesStr : 1;
  if (frames > MAX_FRAMES) {
    throw new DecodeError(`${path}: Number of Frames (0028,0008) = ${frames} is over the limit of ${MAX_FRAMES} frames per file; the header is probably corrupt`, path);
  }
  // Before any frame is decoded: a 65535×65535 claim must not reach an allocation.
  checkPixels(columns, rows, 'the frame size Columns × Rows (0028,0011 × 0028,0010)', path, limits);
  if (![8, 16, 32].includes(bitsAllocated)) {
    throw new DecodeError(`${path}: Bits Allocated ${bitsAllocated} is not supported (8, 16 or 32)`, path);
  }
  if (bitsStored < 1 || bitsStored > bitsAllocated) {
    throw new DecodeError(`${path}: Bits Stored ${bitsStored} must be in [1, Bits Allocated = ${bitsAllocated}]`, path);
  }
  if (samplesPerPixel === 1 && photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2') {
    throw new DecodeError(`${path}: Photometric Interpretation ${photometric} with one sample per pixel is not supported`, path);
  }
  if (samplesPerPixel === 3 && (bitsAllocated !== 8 || !['RGB', 'YBR_FULL'].includes(photometric))) {
    throw new DecodeError(`${path}: colour DICOM must be 8-bit RGB or YBR_FULL, got ${bitsAllocated}-bit ${photometric}`, path);
  }
  const slopeRaw = ds.floatString('x00281053');
  const interceptRaw = ds.floatString('x00281052');
  // Absent or empty (NaN) means the default; a value that parses to ±Infinity is corrupt.
  for (const [name, v] of [['Rescale Slope (0028,1053)', slopeRaw], ['Rescale Intercept (0028,1052)', interceptRaw]] as const) {
    if (v === Infinity || v === -Infinity || (v !== undefined && Math.abs(v) > FLT_MAX)) {
      throw new DecodeError(`${path}: ${name} = ${ds.string(name.includes('Slope') ? 'x00281053' : 'x00281052')} is not a finite float32 number; fix the tag (e.g. with dcmodify)`, path);
    }
  }
  const slope = slopeRaw === undefined || !Number.isFinite(slopeRaw) || slopeRaw === 0 ? 1 : slopeRaw;
  const intercept = interceptRaw === undefined || !Number.isFinite(interceptRaw) ? 0 : interceptRaw;
  let window: DicomImage['window'];
  const center = ds.floatString('x00281050', 0);
  const width = ds.floatString('x00281051', 0);
  if (center !== undefined && width !== undefined && Number.isFinite(center) && Number.isFinite(width) && width > 0) {
    const fnName = (ds.string('x00281056') ?? 'LINEAR').trim().toUpperCase();
    const fn = fnName === 'SIGMOID' || fnName === 'LINEAR_EXACT' ? fnName : 'LINEAR';
    // LINEAR needs width ≥ 1 (PS3.3 C.11.2.1.2.1); a smaller one is malformed: ignore it.
    if (fn !== 'LINEAR' || width >= 1) window = { center, width, fn };
  }
  const byteArray = ds.byteArray as Uint8Array;
  const frameLen = rows * columns * samplesPerPixel * (bitsAllocated / 8);
  // What decoding one frame allocates: the decoded bytes (RLE) and, for grayscale, float64
  // modality values plus the float32 output.
  checkBytes(Math.max(frameLen, samplesPerPixel === 1 ? rows * columns * 8 : 0), `one ${columns}×${rows} frame`, path, limits);
  const bigEndian = ts === TS_EXPLICIT_BE;
  let frameBytes: (k: number) => Uint8Array;
  if (ts === TS_RLE) {
    if (!pixel.encapsulatedPixelData) throw new DecodeError(`${path}: RLE transfer syntax but pixel data is not encapsulated`, path);
    frameBytes = (k) => {
      let bytes: Uint8Array;
      try {
        const nFrag = pixel.fragments?.length ?? 0;
        if (pixel.basicOffsetTable && pixel.basicOffsetTable.length > 0) {
          bytes = dicomParser.readEncapsulatedImageFrame(ds, pixel, k) as Uint8Array;
        } else if (frames === 1) {
          bytes = dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixel, 0, nFrag) as Uint8Array;
        } else if (nFrag === frames) {
          // No offset table: RLE puts each frame in one fragment.
          bytes = dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixel, k, 1) as Uint8Array;
        } else {
          throw new Error(`${nFrag} fragments for ${frames} frames and no Basic Offset Table`);
        }
      } catch (err) {
        throw new DecodeError(`${path}: cannot read RLE frame ${k}: ${thrownMessage(err)}`, path, { cause: causeOf(err) });
      }
      return decodeRle(bytes, rows * columns, samplesPerPixel, bitsAllocated, path);
    };
  } else {
    const need = frameLen * frames;
    if (pixel.length < need || pixel.dataOffset + need > byteArray.length) {
      throw new DecodeError(
        `${path}: pixel data holds ${Math.min(pixel.length, byteArray.length - pixel.dataOffset)} bytes, ` +
          `${rows}×${columns}×${samplesPerPixel}×${bitsAllocated / 8} bytes × ${frames} frame(s) = ${need} expected (truncated or corrupt file)`,
        path,
      );
    }
    frameBytes = (k) => byteArray.subarray(pixel.dataOffset + k * frameLen, pixel.dataOffset + (k + 1) * frameLen);
  }
  return {
    path, transferSyntax: ts, rows, columns, frames, samplesPerPixel: samplesPerPixel as 1 | 3, photometric,
    bitsAllocated, bitsStored, signed, planar, slope, intercept, window, frameBytes, bigEndian,
  };
}

/** RLE Lossless (PS3.5 Annex G): a 64-byte header of segment offsets, each segment PackBits. */
function decodeRle(frag: Uint8Array, pixels: number, spp: number, bitsAllocated: number, path: string): Uint8Array {
  const bytesPerSample = bitsAllocated / 8;
  const nSeg = spp * bytesPerSample;
  const view = new DataView(frag.buffer, frag.byteOffset, frag.byteLength);
  if (frag.length < 64 || view.getUint32(0, true) !== nSeg) {
    throw new DecodeError(`${path}: RLE header announces ${frag.length < 64 ? '?' : view.getUint32(0, true)} segments, expected ${nSeg}`, path);
  }
  // Output in little-endian, sample-interleaved order (what an uncompressed LE frame looks like).
  const out = new Uint8Array(pixels * nSeg);
  for (let s = 0; s < nSeg; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < nSeg ? view.getUint32(8 + 4 * s, true) : frag.length;
    const sample = Math.floor(s / bytesPerSample);
    // Segments hold the most significant byte first.
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    const stride = nSeg;
    let o = 0;
    let p = start;
    const offset = sample * bytesPerSample + byteInSample;
    while (o < pixels && p < end) {
      const n = (frag[p++]! << 24) >> 24;
      if (n >= 0) {
        for (let i = 0; i <= n && o < pixels; i++) out[(o++) * stride + offset] = frag[p++]!;
      } else if (n !== -128) {
        const v = frag[p++]!;
        for (let i = 0; i < 1 - n && o < pixels; i++) out[(o++) * stride + offset] = v;
      }
    }
    if (o < pixels) throw new DecodeError(`${path}: RLE segment ${s} decodes to ${o} of ${pixels} pixels (corrupt)`, path);
  }
  return out;
}

/** Stored sample → integer value (Bits Stored masking, two's complement when signed). */
function sampleReader(img: DicomImage, bytes: Uint8Array, littleEndian: boolean): (i: number) => number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { bitsAllocated: ba, bitsStored: bs, signed } = img;
  const mask = bs >= 32 ? 0xffffffff : 2 ** bs - 1;
  const signBit = 2 ** (bs - 1);
  const raw = ba === 8 ? (i: number) => view.getUint8(i) : ba === 16 ? (i: number) => view.getUint16(i * 2, littleEndian) : (i: number) => view.getUint32(i * 4, littleEndian);
  return (i) => {
    let v = bs >= 32 ? raw(i) : raw(i) % (mask + 1);
    if (signed && v >= signBit) v -= 2 * signBit;
    return v;
  };
}

/** VOI windowing to [0, 1] (PS3.3 C.11.2.1.2). */
function applyWindow(x: number, w: NonNullable<DicomImage['window']>): number {
  const { center: c, width } = w;
  if (w.fn === 'SIGMOID') return 1 / (1 + Math.exp((-4 * (x - c)) / width));
  if (w.fn === 'LINEAR_EXACT') {
    if (x <= c - width / 2) return 0;
    if (x > c + width / 2) return 1;
    return (x - c) / width + 0.5;
  }
  if (x <= c - 0.5 - (width - 1) / 2) return 0;
  if (x > c - 0.5 + (width - 1) / 2) return 1;
  return (x - (c - 0.5)) / (width - 1) + 0.5;
}

/** Frame k as a RawImage (Float32 [0, 1] for grayscale, 8-bit RGB for colour). */
export function dicomFrame(img: DicomImage, k: number, window: DicomWindow = 'header'): RawImage {
  if (!Number.isInteger(k) || k < 0 || k >= img.frames) {
    throw new RangeError(`${img.path}: frame ${k} out of range [0, ${img.frames})`);
  }
  const bytes = img.frameBytes(k);
  const n = img.rows * img.columns;
  // RLE frames are rebuilt little-endian; native frames follow the transfer syntax.
  const little = img.transferSyntax === TS_RLE ? true : !img.bigEndian;
  if (img.samplesPerPixel === 3) {
    const out = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) out[i * 3 + c] = img.planar && img.transferSyntax !== TS_RLE ? bytes[c * n + i]! : bytes[i * 3 + c]!;
    }
    if (img.photometric === 'YBR_FULL') {
      for (let i = 0; i < n * 3; i += 3) {
        const y = out[i]!, cb = out[i + 1]! - 128, cr = out[i + 2]! - 128;
        out[i] = clamp255(y + 1.402 * cr);
        out[i + 1] = clamp255(y - 0.344136 * cb - 0.714136 * cr);
        out[i + 2] = clamp255(y + 1.772 * cb);
      }
    }
    return { width: img.columns, height: img.rows, channels: 3, data: out };
  }
  const read = sampleReader(img, bytes, little);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const raw = read(i);
    const v = raw * img.slope + img.intercept;
    if (!(Math.abs(v) <= FLT_MAX)) throw rescaleError(img, raw, v);
    values[i] = v;
  }
  const out = new Float32Array(n);
  if (window === 'none') {
    for (let i = 0; i < n; i++) out[i] = values[i]!;
    return { width: img.columns, height: img.rows, channels: 1, data: out };
  }
  if (window === 'header' && img.window) {
    for (let i = 0; i < n; i++) out[i] = applyWindow(values[i]!, img.window);
  } else {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const span = hi - lo;
    if (span > 0) for (let i = 0; i < n; i++) out[i] = (values[i]! - lo) / span;
  }
  if (img.photometric === 'MONOCHROME1') for (let i = 0; i < n; i++) out[i] = 1 - out[i]!;
  return { width: img.columns, height: img.rows, channels: 1, data: out };
}

/** A modality value outside float32: name the tag that took it there. */
function rescaleError(img: DicomImage, raw: number, v: number): DecodeError {
  const slopeTerm = Math.abs(raw * img.slope);
  const tag = !(slopeTerm <= FLT_MAX) || Math.abs(img.intercept) <= Math.abs(img.slope) ? 'Rescale Slope (0028,1053)' : 'Rescale Intercept (0028,1052)';
  return new DecodeError(
    `${img.path}: ${tag}: stored value ${raw} × Rescale Slope ${img.slope} + Rescale Intercept ${img.intercept} = ${v}, outside the float32 range ` +
      '(±3.4e38) images are held in; the tag is probably corrupt (fix it, e.g. with dcmodify)',
    img.path,
  );
}

function clamp255(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}
