// NIfTI volumes: .nii and .nii.gz, datatypes, scaling, slicing along each axis.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalizedSlice, readNifti, sliceOf } from '../../src/data/decode/nifti.js';
import { writeNifti } from './helpers/nifti-writer.js';

// A 4×3×2 volume with value = x + 10·y + 100·z.
const dims = [4, 3, 2];
const vol = Array.from({ length: 24 }, (_, i) => (i % 4) + 10 * (Math.floor(i / 4) % 3) + 100 * Math.floor(i / 12));

test('.nii and .nii.gz read the same volume; dims and min/max', () => {
  for (const gzip of [false, true]) {
    const v = readNifti(writeNifti({ dims, datatype: 'int16', data: vol, gzip }), gzip ? 'v.nii.gz' : 'v.nii');
    assert.equal(v.dims, [4, 3, 2]);
    assert.equal(Array.from(v.data), vol);
    assert.is(v.min, 0);
    assert.is(v.max, 123);
  }
});

test('slices along each axis', () => {
  const v = readNifti(writeNifti({ dims, datatype: 'uint16', data: vol }), 'v.nii');
  const z1 = sliceOf(v, 2, 1);
  assert.equal([z1.width, z1.height], [4, 3]);
  assert.equal(Array.from(z1.data), vol.slice(12, 24));
  const y2 = sliceOf(v, 1, 2);
  assert.equal([y2.width, y2.height], [4, 2]);
  assert.equal(Array.from(y2.data), [20, 21, 22, 23, 120, 121, 122, 123]);
  const x3 = sliceOf(v, 0, 3);
  assert.equal([x3.width, x3.height], [3, 2]);
  assert.equal(Array.from(x3.data), [3, 13, 23, 103, 113, 123]);
  assert.throws(() => sliceOf(v, 2, 2), /slice 2 out of range \[0, 2\) along axis 2/);
  const n = normalizedSlice(v, 2, 0);
  assert.is(n.data[0], 0);
  assert.ok(Math.abs(n.data[11]! - 23 / 123) < 1e-7);
});

test('scl_slope / scl_inter apply; slope 0 means unscaled; float32 and uint8 datatypes', () => {
  const s = readNifti(writeNifti({ dims: [2, 1, 1], datatype: 'uint8', data: [1, 2], slope: 2, inter: -1 }), 's.nii');
  assert.equal(Array.from(s.data), [1, 3]);
  const u = readNifti(writeNifti({ dims: [2, 1, 1], datatype: 'float32', data: [0.5, -2], slope: 0 }), 'u.nii');
  assert.equal(Array.from(u.data), [0.5, -2]);
  const two = readNifti(writeNifti({ dims: [3, 2], datatype: 'uint8', data: [1, 2, 3, 4, 5, 6] }), '2d.nii');
  assert.equal(two.dims, [3, 2, 1]);
});

test('bad files: not NIfTI, truncated, 4-D with several volumes', () => {
  assert.throws(() => readNifti(new Uint8Array(400), 'zero.nii'), /zero\.nii is not a NIfTI/);
  const full = writeNifti({ dims, datatype: 'int16', data: vol });
  assert.throws(() => readNifti(full.subarray(0, full.length - 8), 'cut.nii'), /cut\.nii/);
  assert.throws(() => readNifti(writeNifti({ dims: [2, 2, 1, 2], datatype: 'uint8', data: [1, 2, 3, 4, 5, 6, 7, 8] }), '4d.nii'), /4d\.nii: 4-D NIfTI/);
  const gz = writeNifti({ dims, datatype: 'int16', data: vol, gzip: true });
  assert.throws(() => readNifti(gz.subarray(0, 30), 'bad.nii.gz'), /bad\.nii\.gz/);
});

test.run();
