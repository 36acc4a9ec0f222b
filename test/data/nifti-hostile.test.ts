// NIfTI files that lie (issue 7, fuzz findings): non-finite voxels, a scale that overflows
// float32, dimensions that are not positive, a header that claims more data than the file
// holds, and decompression without a cap. Each must be an error naming the file and what is
// wrong, never a NaN slice, a wrong shape or gigabytes of memory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gzipSync } from 'node:zlib';
import { normalizedSlice, readNifti } from '../../src/data/decode/nifti.js';
import { DecodeError } from '../../src/data/errors.js';
import { writeNifti } from './helpers/nifti-writer.js';

/** Asserts fn throws a DecodeError whose message matches every pattern. */
function throwsDecode(fn: () => unknown, ...patterns: RegExp[]) {
  try {
    fn();
  } catch (err) {
    assert.instance(err, DecodeError);
    for (const p of patterns) assert.match((err as Error).message, p);
    return;
  }
  assert.unreachable('expected a DecodeError');
}

test('one −Infinity voxel is an error naming the file, not a NaN slice', () => {
  const data = [0, 1, 2, -Infinity, 4, 5, 6, 7];
  throwsDecode(() => readNifti(writeNifti({ dims: [2, 2, 2], datatype: 'float32', data }), 'inf.nii'), /inf\.nii/, /-Infinity/, /not finite/, /nonFinite/);
  throwsDecode(() => readNifti(writeNifti({ dims: [2, 2, 2], datatype: 'float32', data: [NaN, 1, 2, 3, 4, 5, 6, 7] }), 'nan.nii'), /nan\.nii/, /NaN/);
});

test("nonFinite: 'clamp' (opt-in) maps ±Infinity to the finite extremes and NaN to the minimum", () => {
  const data = [0, 1, 2, -Infinity, 4, Infinity, NaN, 8];
  const v = readNifti(writeNifti({ dims: [2, 2, 2], datatype: 'float32', data }), 'c.nii', { nonFinite: 'clamp' });
  assert.equal(Array.from(v.data), [0, 1, 2, 0, 4, 8, 0, 8]);
  for (const k of [0, 1]) for (const x of normalizedSlice(v, 2, k).data) assert.ok(Number.isFinite(x) && x >= 0 && x <= 1);
});

test('scl_slope = 1e38 overflows float32: an error naming scl_slope, not a NaN slice', () => {
  const buf = writeNifti({ dims: [2, 2, 1], datatype: 'uint8', data: [0, 10, 20, 30], slope: 1e38 });
  throwsDecode(() => readNifti(buf, 'slope.nii'), /slope\.nii/, /scl_slope/, /float32/);
});

test('a negative or zero dimension is an error, not a silently different shape', () => {
  throwsDecode(() => readNifti(writeNifti({ dims: [4, -3, 2], datatype: 'uint8', data: new Array(24).fill(1) }), 'neg.nii'), /neg\.nii/, /dim\[2\] = -3/);
  throwsDecode(() => readNifti(writeNifti({ dims: [4, 0, 2], datatype: 'uint8', data: [] }), 'zero.nii'), /zero\.nii/, /dim\[2\] = 0/);
});

test('a .nii.gz whose header claims more voxels than the data holds', () => {
  // Header says 64×64×64 int16 (512 KiB); the file carries 10 voxels.
  const buf = writeNifti({ dims: [64, 64, 64], datatype: 'int16', data: new Array(10).fill(3), gzip: true });
  throwsDecode(() => readNifti(buf, 'short.nii.gz'), /short\.nii\.gz/, /64×64×64/, /524288 bytes/, /holds 20/);
});

test('decompression is capped: a small .nii.gz that inflates past maxDecodedBytes is refused', () => {
  // 256 KiB of zeros compress to a few hundred bytes; a 64 KiB cap stands in for the default.
  const buf = writeNifti({ dims: [64, 64, 32], datatype: 'uint16', data: new Array(64 * 64 * 32).fill(0), gzip: true });
  assert.ok(buf.length < 2000);
  throwsDecode(() => readNifti(buf, 'bomb.nii.gz', { maxDecodedBytes: 64 * 1024 }), /bomb\.nii\.gz/, /maxDecodedBytes/, /64 KiB/);
  // The same file under the default cap reads fine.
  assert.equal(readNifti(buf, 'bomb.nii.gz').dims, [64, 64, 32]);
});

test('declared size is checked against the cap before the voxel array is allocated', () => {
  // A plain .nii (no decompression) whose header claims 32767³ uint8 voxels: refused from the
  // header alone, the allocation (≈ 140 TB as float32) is never attempted.
  const buf = writeNifti({ dims: [32767, 32767, 32767], datatype: 'uint8', data: [1, 2, 3] });
  throwsDecode(() => readNifti(buf, 'huge.nii'), /huge\.nii/, /32767×32767×32767/, /maxDecodedBytes/);
  // Bytes beyond what the header declares are ignored (inflated under the cap, never read).
  const ok = writeNifti({ dims: [2, 2, 1], datatype: 'uint8', data: [1, 2, 3, 4] });
  const padded = gzipSync(Buffer.concat([ok, Buffer.alloc(4096)]));
  assert.equal(Array.from(readNifti(padded, 'pad.nii.gz').data), [1, 2, 3, 4]);
});

test.run();
