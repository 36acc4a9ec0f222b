// The restricted .pth reader against files torch 1.13 wrote (scripts/make-pth-fixtures.py):
// values exact for every dtype, views and shared storages, the legacy format and deflated
// entries; hostile pickles refused by the name of the global they call; truncated and
// corrupt archives refused with a clear error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePth, readPth, RefusedGlobalError } from '../../src/weights/index.js';
import { toFloat32, type RawTensor } from '../../src/nn/safetensors.js';
import { throwsMatching } from '../assert-throws.js';
import { concat, f32bytes, P, stateDictPickle, writePth, writeZip } from './pth-writer.js';

const DIR = new URL('../fixtures/weights/', import.meta.url).pathname;
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')).files as Record<string, Record<string, { dtype: string; shape: number[]; values: (number | string)[] }>>;

function assertExact(file: string, tensors: Map<string, RawTensor>) {
  const want = expected[file];
  assert.equal([...tensors.keys()], Object.keys(want), `${file}: names in order`);
  for (const [name, w] of Object.entries(want)) {
    const t = tensors.get(name)!;
    assert.is(t.dtype, w.dtype, `${file} ${name} dtype`);
    assert.equal(t.shape, w.shape, `${file} ${name} shape`);
    if (t.dtype === 'I64') {
      assert.equal(Array.from(t.data as BigInt64Array, String), w.values, `${file} ${name} values`);
    } else {
      const got = toFloat32(t);
      assert.is(got.length, w.values.length);
      for (let i = 0; i < got.length; i++) {
        // Bit-exact, -0 included.
        assert.ok(Object.is(got[i], Math.fround(w.values[i] as number)), `${file} ${name}[${i}]: ${got[i]} vs ${w.values[i]}`);
      }
    }
  }
}

for (const file of ['dtypes.pth', 'dtypes-deflated.pth', 'dtypes-legacy.pth']) {
  test(`${file}: every tensor's dtype, shape and values exactly as torch wrote them`, () => {
    const c = readPth(join(DIR, file));
    assert.is(c.format, file.includes('legacy') ? 'legacy' : 'zip');
    assert.is(c.key, null);
    assertExact(file, c.tensors);
  });
}

test('views and shared storages are gathered into separate dense arrays', () => {
  const c = readPth(join(DIR, 'dtypes.pth'));
  const a = c.tensors.get('shared.a')!;
  const b = c.tensors.get('shared.b')!;
  assert.not.ok(a.data.buffer === b.data.buffer);
  assert.equal(Array.from(b.data as Float32Array), Array.from(a.data as Float32Array).slice(2, 6));
  assert.equal(Array.from(c.tensors.get('view.transposed')!.data as Float32Array), [0, 1, 2, 0.25, 1.25, 2.25, 0.5, 1.5, 2.5, 0.75, 1.75, 2.75]);
});

test('a state dict nested in a checkpoint is unwrapped and its key reported', () => {
  const c = readPth(join(DIR, 'nested.pth'));
  assert.is(c.key, 'state_dict');
  assertExact('nested.pth', c.tensors);
});

test('two candidate state dicts: refused, naming both and --key; --key picks one', () => {
  throwsMatching(() => readPth(join(DIR, 'ambiguous.pth')), /ambiguous\.pth/, /2 state dicts/, /"model"/, /"ema"/, /--key/);
  const c = readPth(join(DIR, 'ambiguous.pth'), { key: 'ema' });
  assert.is(c.key, 'ema');
  assert.equal([...c.tensors.keys()], ['w', 'b']);
  throwsMatching(() => readPth(join(DIR, 'ambiguous.pth'), { key: 'nope' }), /no key "nope"/, /model \(dict, 2 tensor/);
});

test('a pickle calling posix.system is refused by name, nothing executed', () => {
  let err: unknown;
  try {
    readPth(join(DIR, 'evil.pth'));
  } catch (e) {
    err = e;
  }
  assert.instance(err, RefusedGlobalError);
  assert.is((err as RefusedGlobalError).global, 'posix.system');
  assert.match((err as Error).message, /evil\.pth/);
  assert.match((err as Error).message, /posix\.system/);
  assert.match((err as Error).message, /not executed/);
});

test('a whole pickled model is refused, naming its class and saying to save state_dict()', () => {
  throwsMatching(() => readPth(join(DIR, 'module.pth')), /torch\.nn\.modules\.linear\.Linear/, /state_dict\(\)/);
});

test('hostile globals are refused wherever they appear: builtins.eval, __builtin__.getattr, STACK_GLOBAL os.system, inside a state dict', () => {
  const t: [string, { shape: number[]; bytes: Uint8Array }][] = [['w', { shape: [2], bytes: f32bytes([1, 2]) }]];
  const call = (g: Uint8Array) => concat([P.proto(), g, P.str('1+1'), P.tuple1(), P.reduce(), P.stop()]);
  const cases: [Uint8Array, string][] = [
    [call(P.global('builtins', 'eval')), 'builtins.eval'],
    [call(P.global('__builtin__', 'getattr')), '__builtin__.getattr'],
    [call(concat([P.str('os'), P.str('system'), P.stackGlobal()])), 'os.system'],
    [stateDictPickle(t, { inject: concat([P.global('subprocess', 'Popen'), Uint8Array.of(0x30)]) }), 'subprocess.Popen'],
    [call(P.global('torch', 'load')), 'torch.load'],
    [call(P.global('torch._utils', '_rebuild_device_tensor_from_numpy')), 'torch._utils._rebuild_device_tensor_from_numpy'],
  ];
  for (const [pkl, name] of cases) {
    const bytes = writePth(t, { pickle: pkl });
    let err: unknown;
    try {
      parsePth(bytes, 'hostile.pth');
    } catch (e) {
      err = e;
    }
    assert.instance(err, RefusedGlobalError, name);
    assert.is((err as RefusedGlobalError).global, name);
  }
});

test('the TS-written checkpoint reads back (the helper the fetch tests use)', () => {
  const bytes = writePth([
    ['a', { shape: [2, 2], bytes: f32bytes([1, 2, 3, 4]) }],
    ['b', { shape: [], bytes: f32bytes([5]) }],
  ]);
  const c = parsePth(bytes, 'ts.pth');
  assert.equal(Array.from(c.tensors.get('a')!.data as Float32Array), [1, 2, 3, 4]);
  assert.equal(c.tensors.get('b')!.shape, []);
});

test('old torch constructs: Python 2 strings, _rebuild_tensor (v1), torch.Size, _rebuild_parameter, a legacy FloatTensor set up by BUILD', () => {
  const storage = concat([P.mark(), P.py2str('storage'), P.global('torch', 'FloatStorage'), P.py2str('0'), P.py2str('cpu'), P.int(4), P.none(), P.tuple(), P.binpersid()]);
  const ints = (...v: number[]) => concat([P.mark(), ...v.map(P.int), P.tuple()]);
  const pkl = concat([
    P.proto(),
    P.global('collections', 'OrderedDict'),
    P.emptyTuple(),
    P.reduce(),
    P.mark(),
    P.py2str('w'),
    P.global('torch._utils', '_rebuild_tensor'),
    P.mark(),
    storage,
    P.int(1),
    ints(2),
    ints(2),
    P.tuple(),
    P.reduce(),
    P.py2str('p'),
    P.global('torch._utils', '_rebuild_parameter'),
    P.mark(),
    P.global('torch._utils', '_rebuild_tensor_v2'),
    P.mark(),
    storage,
    P.int(0),
    P.global('torch', 'Size'),
    P.mark(),
    ints(2, 2),
    P.tuple(),
    P.reduce(),
    ints(2, 1),
    P.newfalse(),
    P.global('collections', 'OrderedDict'),
    P.emptyTuple(),
    P.reduce(),
    P.tuple(),
    P.reduce(),
    P.newtrue(),
    P.global('collections', 'OrderedDict'),
    P.emptyTuple(),
    P.reduce(),
    P.tuple(),
    P.reduce(),
    P.py2str('legacy'),
    P.global('torch', 'FloatTensor'),
    P.emptyTuple(),
    P.reduce(),
    P.mark(),
    storage,
    P.int(2),
    ints(2),
    ints(1),
    P.tuple(),
    P.build(),
    P.setitems(),
    P.stop(),
  ]);
  const bytes = writeZip([
    { name: 'old/data.pkl', data: pkl },
    { name: 'old/data/0', data: f32bytes([10, 11, 12, 13]) },
  ]);
  const c = parsePth(bytes, 'old.pth');
  assert.equal([...c.tensors.keys()], ['w', 'p', 'legacy']);
  assert.equal(Array.from(c.tensors.get('w')!.data as Float32Array), [11, 13]);
  assert.equal(c.tensors.get('p')!.shape, [2, 2]);
  assert.equal(Array.from(c.tensors.get('p')!.data as Float32Array), [10, 11, 12, 13]);
  assert.equal(Array.from(c.tensors.get('legacy')!.data as Float32Array), [12, 13]);
});

test('a truncated file is refused at every cut with a clear error (zip and legacy)', () => {
  for (const file of ['dtypes.pth', 'dtypes-legacy.pth']) {
    const full = readFileSync(join(DIR, file));
    for (let n = 0; n < full.length; n += n < 64 ? 1 : 7) {
      throwsMatching(() => parsePth(full.subarray(0, n), `cut-${n}.pth`), new RegExp(`cut-${n}\\.pth|empty`), /truncated|corrupt|empty|not a PyTorch checkpoint|not a zip/);
    }
  }
  throwsMatching(() => parsePth(readFileSync(join(DIR, 'dtypes.pth')).subarray(0, 2000), 'cut.pth'), /cut\.pth/, /no end-of-central-directory record/, /truncated/);
});

test('a flipped byte anywhere either reads or throws an Error naming the file (never a crash or a wrong type of error)', () => {
  for (const file of ['dtypes.pth', 'dtypes-deflated.pth', 'dtypes-legacy.pth']) {
    const full = new Uint8Array(readFileSync(join(DIR, file)));
    for (let i = 0; i < full.length; i++) {
      const bad = full.slice();
      bad[i] ^= 0x5a;
      try {
        parsePth(bad, 'flipped.pth');
      } catch (e) {
        assert.instance(e, Error);
        assert.match((e as Error).message, /flipped\.pth/, `${file} byte ${i}: ${(e as Error).message}`);
      }
    }
  }
});

test('damaged storage bytes fail the CRC-32 check', () => {
  const bytes = new Uint8Array(writePth([['a', { shape: [4], bytes: f32bytes([1, 2, 3, 4]) }]]));
  const at = Buffer.from(bytes).indexOf(Buffer.from(f32bytes([1, 2, 3, 4])));
  bytes[at + 3] ^= 1;
  throwsMatching(() => parsePth(bytes, 'crc.pth'), /crc\.pth/, /archive\/data\/0/, /CRC-32/, /corrupt/);
});

test('a storage record shorter than its tensor, a missing record, and a view past its storage are refused', () => {
  const good = stateDictPickle([['a', { shape: [4], bytes: f32bytes([1, 2, 3, 4]) }]]);
  const short = writeZip([
    { name: 'archive/data.pkl', data: good },
    { name: 'archive/data/0', data: f32bytes([1, 2, 3]) },
  ]);
  throwsMatching(() => parsePth(short, 's.pth'), /holds 12 bytes/, /4 elements of F32 need 16/);
  const missing = writeZip([{ name: 'archive/data.pkl', data: good }]);
  throwsMatching(() => parsePth(missing, 'm.pth'), /no record archive\/data\/0/);
  // shape [5] on a 4-element storage: the pickle says numel 4, size 5.
  const pkl = stateDictPickle([['a', { shape: [5], bytes: f32bytes([1, 2, 3, 4]) }]]);
  const over = writeZip([
    { name: 'archive/data.pkl', data: pkl },
    { name: 'archive/data/0', data: f32bytes([1, 2, 3, 4]) },
  ]);
  throwsMatching(() => parsePth(over, 'o.pth'), /"a"/, /reaches element 4 of a storage of 4/);
  // stride 0: a million elements from a 4-element storage.
  const expand = writePth([['a', { shape: [1000000], stride: [0], bytes: f32bytes([1, 2, 3, 4]) }]]);
  throwsMatching(() => parsePth(expand, 'e.pth'), /"a" has 1000000 elements over a storage of 4/, /overlapping strides \[0\]/, /contiguous\(\)/);
});

test('not a checkpoint: TorchScript archives, other zips, text, tar', () => {
  const ts = writeZip([
    { name: 'm/constants.pkl', data: Uint8Array.of(0x80, 2, 0x29, 0x2e) },
    { name: 'm/code/m.py', data: new Uint8Array(3) },
  ]);
  throwsMatching(() => parsePth(ts, 'ts.pt'), /TorchScript/, /state_dict\(\)/);
  throwsMatching(() => parsePth(writeZip([{ name: 'a.txt', data: new Uint8Array(1) }]), 'z.zip'), /without data\.pkl/);
  throwsMatching(() => parsePth(new TextEncoder().encode('hello world'), 'h.txt'), /not a PyTorch checkpoint/);
  const tar = new Uint8Array(1024);
  tar.set(new TextEncoder().encode('ustar'), 257);
  throwsMatching(() => parsePth(tar, 'old.pth'), /tar archive/, /PyTorch ≥ 1\.6/);
});

test.run();
