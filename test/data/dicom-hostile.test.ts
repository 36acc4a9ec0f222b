// DICOM files that lie (issue 7, fuzz findings): a rescale that overflows, parser failures
// that used to read "[object Object]", a 65535×65535 RLE claim, and a deflated data set that
// inflates without a cap. Each is a DecodeError naming the file and the tag or limit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dicomFrame, parseDicom } from '../../src/data/decode/dicom.js';
import { DecodeError } from '../../src/data/errors.js';
import { TS, rleEncode, writeDicom } from './helpers/dicom-writer.js';

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, DecodeError);
    return err as DecodeError;
  }
  return assert.unreachable('expected a DecodeError') as never;
}

test('RescaleSlope 1e308 is an error naming the tag, not a flat image', () => {
  const buf = writeDicom({ rows: 1, columns: 3, pixels: new Uint16Array([0, 100, 200]), slope: 1e308 });
  const e = decodeError(() => dicomFrame(parseDicom(buf, 'slope.dcm'), 0));
  assert.match(e.message, /slope\.dcm/);
  assert.match(e.message, /Rescale Slope \(0028,1053\)/);
  assert.match(e.message, /float32/);
  // A slope that is a valid float32 but takes a stored value past float32: caught per value.
  const big = writeDicom({ rows: 1, columns: 2, pixels: new Uint16Array([1, 60000]), slope: 1e35 });
  const img = parseDicom(big, 'big.dcm');
  assert.match(decodeError(() => dicomFrame(img, 0)).message, /big\.dcm: Rescale Slope \(0028,1053\): stored value 60000/);
  // An intercept that overflows names its own tag; the mask path ('none') is checked too.
  const ib = writeDicom({ rows: 1, columns: 2, pixels: new Uint16Array([0, 1]), intercept: -1e39 });
  assert.match(decodeError(() => dicomFrame(parseDicom(ib, 'icpt.dcm'), 0, 'none')).message, /Rescale Intercept \(0028,1052\)/);
});

test('a rescale value that does not parse as a finite number is an error naming the tag', () => {
  const buf = writeDicom({ rows: 1, columns: 2, pixels: new Uint16Array([0, 1]), slope: 1e309 }); // written as "Infinity"
  assert.match(decodeError(() => parseDicom(buf, 'inf.dcm')).message, /inf\.dcm.*Rescale Slope \(0028,1053\)/);
});

test('parser failures keep their message and cause instead of "[object Object]"', () => {
  // Cut the data set in the middle of an element header: dicom-parser throws
  // { exception: 'littleEndianByteArrayParser...: ...', dataSet } (not an Error).
  const full = writeDicom({ rows: 4, columns: 4, pixels: new Uint16Array(16) });
  const cut = full.subarray(0, 300); // meta header (244 bytes) intact, data set cut mid-element
  const e = decodeError(() => parseDicom(cut, 'cut.dcm'));
  assert.match(e.message, /cannot parse DICOM file cut\.dcm: /);
  assert.not.match(e.message, /\[object Object\]/);
  assert.match(e.message, /read past end of buffer/);
  assert.instance(e.cause, Error);
  assert.match((e.cause as Error).message, /read past end of buffer/);
});

test('a 65535×65535 RLE claim is refused from the header, not a bare RangeError', () => {
  const frag = rleEncode(new Uint8Array(4), 1);
  const buf = writeDicom({ rows: 65535, columns: 65535, bitsAllocated: 8, transferSyntax: TS.rle, fragments: [frag] });
  // Refused at parse time, before any frame is decoded (so nothing is allocated).
  const e = decodeError(() => parseDicom(buf, 'big.dcm'));
  assert.match(e.message, /big\.dcm/);
  assert.match(e.message, /65535×65535/);
  assert.match(e.message, /maxPixels/);
});

test('frames are capped by the decoded-bytes limit too (a tiny cap for the test)', () => {
  const buf = writeDicom({ rows: 64, columns: 64, pixels: new Uint16Array(64 * 64) });
  assert.match(decodeError(() => parseDicom(buf, 'cap.dcm', { maxDecodedBytes: 1024 })).message, /cap\.dcm.*maxDecodedBytes/);
  assert.match(decodeError(() => parseDicom(buf, 'px.dcm', { maxPixels: 100 })).message, /px\.dcm.*64×64.*maxPixels/);
});

test('a deflated data set is inflated under the cap', () => {
  const px = new Uint16Array(128 * 128); // 32 KiB of zeros, deflates to almost nothing
  const buf = writeDicom({ rows: 128, columns: 128, pixels: px, deflate: true });
  assert.ok(buf.length < 1000);
  assert.is(parseDicom(buf, 'ok.dcm').rows, 128); // default cap: reads
  const e = decodeError(() => parseDicom(buf, 'bomb.dcm', { maxDecodedBytes: 4096 }));
  assert.match(e.message, /bomb\.dcm/);
  assert.match(e.message, /maxDecodedBytes/);
  assert.match(e.message, /4 KiB/);
});

test('NumberOfFrames beyond the frame cap is refused before items are made', () => {
  const buf = writeDicom({ rows: 1, columns: 1, bitsAllocated: 8, frames: 100000, pixels: new Uint8Array(100000) });
  assert.match(decodeError(() => parseDicom(buf, 'frames.dcm')).message, /frames\.dcm.*Number of Frames \(0028,0008\) = 100000/);
});

test.run();
