// checkWeights, importPth, fetchWeights (from a server on 127.0.0.1 only) and resolveWeights.
// A full-shape resnet18 checkpoint is built here from expectedState (conv weights float16,
// the rest float32, some num_batches_tracked absent, torchvision's fc present) and never
// committed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backbones } from '../../src/models/backbones/index.js';
import { readSafetensors, toFloat32 } from '../../src/nn/safetensors.js';
import { halfToFloat32 } from '../../src/weights/convert.js';
import { checkWeights, fetchWeights, hashPrefixOf, importPth, listCachedWeights, resolveWeights, weightsCacheDir, weightsUrl } from '../../src/weights/index.js';
import { throwsMatching } from '../assert-throws.js';
import { rejection, serve } from './local-server.js';
import { writePth, type TensorSpec } from './pth-writer.js';

const FIX = new URL('../fixtures/weights/', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-weights-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** The value of element i of tensor number k (exact in float16). */
const valueAt = (k: number, i: number) => ((i * 7 + k) % 23) / 16 - 0.5;

function halfBytes(n: number, k: number): Uint8Array {
  // Values of valueAt are multiples of 1/16 in [-0.5, 0.875]: exact halves, built from their float32 bits.
  const out = new Uint16Array(n);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < n; i++) {
    f[0] = valueAt(k, i);
    const b = u[0];
    const sign = (b >>> 16) & 0x8000;
    const exp = ((b >>> 23) & 0xff) - 127 + 15;
    out[i] = f[0] === 0 ? sign : sign | (exp << 10) | ((b >>> 13) & 0x3ff);
  }
  return new Uint8Array(out.buffer);
}

let full: Uint8Array | null = null;
/** A resnet18 checkpoint torchvision-shaped: conv weights F16, BN F32, num_batches_tracked only in layer1, fc present. */
function fullResnet18(): Uint8Array {
  if (full) return full;
  const tensors: [string, TensorSpec][] = [];
  backbones.expectedState('resnet18').forEach((e, k) => {
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (e.dtype === 'int64') {
      if (e.name.startsWith('layer1.')) tensors.push([e.name, { dtype: 'I64', shape: e.shape, bytes: new Uint8Array(BigInt64Array.of(5n).buffer) }]);
      return;
    }
    if (e.shape.length === 4) tensors.push([e.name, { dtype: 'F16', shape: e.shape, bytes: halfBytes(n, k) }]);
    else tensors.push([e.name, { shape: e.shape, bytes: new Uint8Array(Float32Array.from({ length: n }, (_, i) => valueAt(k, i)).buffer) }]);
  });
  tensors.push(['fc.weight', { shape: [1000, 512], bytes: new Uint8Array(1000 * 512 * 4) }]);
  tensors.push(['fc.bias', { shape: [1000], bytes: new Uint8Array(1000 * 4) }]);
  full = writePth(tensors, { archive: 'resnet18' });
  return full;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('check: the resnet18-like partial file — mis-shaped, missing, extra, absent num_batches_tracked and conversions reported', () => {
  const r = checkWeights(join(FIX, 'resnet18-partial.pth'), 'resnet18');
  assert.is(r.ok, false);
  assert.is(r.format, 'zip');
  assert.is(r.tensors, 7);
  assert.equal(r.misshaped, [{ name: 'conv1.weight', expected: [64, 3, 7, 7], found: [4, 3, 3, 3] }]);
  assert.equal(r.extra, ['head.weight']);
  const exp = backbones.expectedState('resnet18');
  const present = new Set(['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked']);
  assert.equal(r.missing, exp.filter((e) => !present.has(e.name) && !e.name.endsWith('num_batches_tracked')).map((e) => e.name));
  assert.equal(r.absentOptional, exp.filter((e) => e.name.endsWith('num_batches_tracked') && e.name !== 'bn1.num_batches_tracked').map((e) => e.name));
  assert.equal(r.conversions, [{ from: 'F16', to: 'F32', count: 1 }]);
  assert.match(r.message, /conv1\.weight is \[4, 3, 3, 3\], torchvision's resnet18 has \[64, 3, 7, 7\]/);
  assert.match(r.message, /head\.weight/);
});

test('check: a full torchvision-shaped resnet18 checkpoint passes; fc ignored; F16 conversions counted; other architectures refuse it', () => {
  const file = join(tmp, 'resnet18-full.pth');
  writeFileSync(file, fullResnet18());
  const r = checkWeights(file, 'resnet18');
  assert.ok(r.ok, r.message);
  assert.equal(r.ignored, ['fc.weight', 'fc.bias']);
  assert.equal(r.conversions, [{ from: 'F16', to: 'F32', count: 20 }]);
  assert.is(r.absentOptional.length, 20 - 4);
  const v = checkWeights(file, 'vgg19');
  assert.is(v.ok, false);
  assert.match(v.message, /not torchvision vgg19 weights/);
});

test('import: resnet18 .pth → .safetensors with torchvision names, float32 values exact, int64 num_batches_tracked, fc dropped; loads into the backbone; deterministic', () => {
  const file = join(tmp, 'resnet18-full.pth');
  writeFileSync(file, fullResnet18());
  const out = join(tmp, 'r18.safetensors');
  const res = importPth(file, { arch: 'resnet18', out });
  const { tensors, metadata } = readSafetensors(out);
  const exp = backbones.expectedState('resnet18');
  assert.equal([...tensors.keys()].sort(), exp.map((e) => e.name).sort());
  exp.forEach((e, k) => {
    const t = tensors.get(e.name)!;
    assert.equal(t.shape, e.shape, e.name);
    if (e.dtype === 'int64') {
      assert.is(t.dtype, 'I64');
      assert.is((t.data as BigInt64Array)[0], e.name.startsWith('layer1.') ? 5n : 0n, e.name);
    } else {
      assert.is(t.dtype, 'F32');
      const d = toFloat32(t);
      for (let i = 0; i < d.length; i += 97) assert.is(d[i], valueAt(k, i), `${e.name}[${i}]`);
    }
  });
  assert.is(metadata.arch, 'resnet18');
  assert.is(metadata.source_sha256, sha(fullResnet18()));
  assert.is(res.sha256, sha(readFileSync(out)));
  const again = importPth(file, { arch: 'resnet18', out: join(tmp, 'r18-again.safetensors') });
  assert.is(again.sha256, res.sha256);
  const net = backbones.create('resnet18', { weights: out });
  const sd = new Map(net.stateEntries().map((e) => [e.name, e.tensor]));
  assert.is(sd.get('layer4.1.conv2.weight')!.data[5], valueAt(exp.findIndex((e) => e.name === 'layer4.1.conv2.weight'), 5));
  assert.equal(resolveWeights('resnet18', out), { path: out, sha256: res.sha256 });
});

test('import refuses a file that does not fit, naming the tensors, and writes nothing', () => {
  const out = join(tmp, 'partial.safetensors');
  throwsMatching(() => importPth(join(FIX, 'resnet18-partial.pth'), { arch: 'resnet18', out }), /resnet18-partial\.pth/, /conv1\.weight is \[4, 3, 3, 3\]/, /missing/, /head\.weight/);
  assert.not.ok(existsSync(out));
  throwsMatching(() => importPth(join(FIX, 'evil.pth'), { arch: 'resnet18', out }), /posix\.system/);
  assert.not.ok(existsSync(out));
});

// ---- fetch, from 127.0.0.1 ----


function newCache(name: string): string {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  return d;
}

test('fetch: downloads, verifies the SHA-256 prefix of the file name, converts, caches atomically with a record; resolveWeights finds it', async () => {
  const body = fullResnet18();
  const name = `resnet18-${sha(body).slice(0, 8)}.pth`;
  const srv = await serve({ [`/models/${name}`]: { body } });
  const cacheDir = newCache('cache-ok');
  const seen: number[] = [];
  try {
    const r = await fetchWeights('resnet18', { url: `${srv.base}/models/${name}`, cacheDir, onProgress: (p) => seen.push(p.received) });
    assert.is(r.path, join(cacheDir, 'resnet18.safetensors'));
    assert.is(r.sourceSha256, sha(body));
    assert.is(r.sha256, sha(readFileSync(r.path)));
    assert.is(seen[seen.length - 1], body.length);
    const record = JSON.parse(readFileSync(join(cacheDir, 'resnet18.json'), 'utf8'));
    assert.is(record.sha256, r.sha256);
    assert.is(record.source.url, `${srv.base}/models/${name}`);
    assert.is(record.source.sha256, sha(body));
    assert.equal(readdirSync(cacheDir).sort(), ['resnet18.json', 'resnet18.safetensors']);
    // The same bytes as importing the file under the same name.
    const local = join(tmp, name);
    writeFileSync(local, body);
    assert.is(importPth(local, { arch: 'resnet18', out: join(tmp, 'same.safetensors') }).sha256, r.sha256);
    process.env.MEDIANOMALY_WEIGHTS = cacheDir;
    assert.is(weightsCacheDir(), cacheDir);
    assert.equal(resolveWeights('resnet18'), { path: r.path, sha256: r.sha256 });
    assert.equal(resolveWeights('resnet18', null), { path: r.path, sha256: r.sha256 });
    const listed = listCachedWeights();
    assert.equal(
      listed.map((l) => [l.arch, l.cached]),
      [
        ['resnet18', true],
        ['wide_resnet50_2', false],
        ['vgg19', false],
        ['lpips_squeeze', false],
      ],
    );
    assert.is(listed[0].sha256, r.sha256);
    // A changed cached file is caught by its SHA-256.
    const bytes = readFileSync(r.path);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(r.path, bytes);
    throwsMatching(() => resolveWeights('resnet18'), /cached resnet18 weights/, /changed or is corrupt/, /weights fetch resnet18 --force/);
  } finally {
    delete process.env.MEDIANOMALY_WEIGHTS;
    await srv.close();
  }
});

test("fetch: a hash mismatch is refused and nothing is cached (torchvision's own file name, served from a folder URL)", async () => {
  const body = fullResnet18();
  const srv = await serve({ '/mirror/resnet18-f37072fd.pth': { body } });
  const cacheDir = newCache('cache-mismatch');
  try {
    assert.is(weightsUrl('resnet18', `${srv.base}/mirror/`), `${srv.base}/mirror/resnet18-f37072fd.pth`);
    const err = await rejection(fetchWeights('resnet18', { url: `${srv.base}/mirror`, cacheDir }));
    assert.match(err!.message, new RegExp(`SHA-256 of the ${body.length} bytes downloaded is ${sha(body)}`));
    assert.match(err!.message, /starts with f37072fd/);
    assert.match(err!.message, /nothing was cached/);
    assert.equal(readdirSync(cacheDir), []);
  } finally {
    await srv.close();
  }
});

test('fetch: HTTP 404, a refused connection, a cut download, a name without a hash and a file for another architecture: clear errors, nothing cached', async () => {
  const other = readFileSync(join(FIX, 'dtypes.pth'));
  const otherName = `dtypes-${sha(other).slice(0, 10)}.pth`;
  const body = fullResnet18();
  const cutName = `resnet18-${sha(body).slice(0, 8)}.pth`;
  const srv = await serve({ [`/${otherName}`]: { body: other }, [`/${cutName}`]: { body, cutAt: 1000 } });
  const cacheDir = newCache('cache-errors');
  const fails = async (url: string, ...parts: RegExp[]) => {
    const err = await rejection(fetchWeights('resnet18', { url, cacheDir }));
    for (const p of parts) assert.match(err!.message, p);
  };
  try {
    await fails(`${srv.base}/nothing-here`, /HTTP 404 Not Found/, /resnet18-f37072fd\.pth/, /--url/);
    await fails(`${srv.base}/${otherName}`, /not torchvision resnet18 weights/, /conv1\.weight/);
    await fails(`${srv.base}/${cutName}`, /broke off|ended after/, /run the fetch again/);
    const before = srv.requests.length;
    await fails(`${srv.base}/weights.pth`, /carries no SHA-256 prefix/, /nothing was downloaded/);
    assert.is(srv.requests.length, before);
  } finally {
    await srv.close();
  }
  // The server is gone: nothing listens on that port now.
  await fails(`${srv.base}/resnet18-f37072fd.pth`, /cannot download/, /ECONNREFUSED/, /weights import/);
  assert.equal(readdirSync(cacheDir), []);
});

test('the float16 table conversion equals the reference conversion for all 65536 halves', () => {
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const fast = halfToFloat32(all);
  const ref = toFloat32({ dtype: 'F16', shape: [65536], data: all });
  for (let i = 0; i < 65536; i++) assert.ok(Object.is(fast[i], ref[i]) || (Number.isNaN(fast[i]) && Number.isNaN(ref[i])), `half 0x${i.toString(16)}`);
});

test('hashPrefixOf follows torch hub: the hex digits after the last dash', () => {
  assert.is(hashPrefixOf('resnet18-f37072fd.pth'), 'f37072fd');
  assert.is(hashPrefixOf('wide_resnet50_2-95faca4d.pth'), '95faca4d');
  assert.is(hashPrefixOf('vgg19-dcbb9e9d.pth'), 'dcbb9e9d');
  assert.is(hashPrefixOf('weights.pth'), null);
  assert.is(hashPrefixOf('w-abc.pth'), null);
});

test('resolveWeights: random, nothing cached, a .pth, a missing path, a file for another architecture, an interrupted fetch', () => {
  const empty = newCache('cache-empty');
  process.env.MEDIANOMALY_WEIGHTS = empty;
  try {
    assert.equal(resolveWeights('vgg19', 'random'), { path: 'random', sha256: null });
    throwsMatching(() => resolveWeights('vgg19'), /no ImageNet weights for vgg19/, new RegExp(empty.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')), /`medianomaly weights fetch vgg19`/, /--weights random/, /--weights FILE\.safetensors/);
    throwsMatching(() => resolveWeights('resnet18', join(FIX, 'dtypes.pth')), /PyTorch checkpoint/, /medianomaly weights import .*dtypes\.pth --arch resnet18 --out .*dtypes\.safetensors/);
    throwsMatching(() => resolveWeights('resnet18', join(tmp, 'nope.safetensors')), /nope\.safetensors does not exist/);
    const r18 = join(tmp, 'r18-resolve.safetensors');
    writeFileSync(join(tmp, 'resnet18-full.pth'), fullResnet18());
    importPth(join(tmp, 'resnet18-full.pth'), { arch: 'resnet18', out: r18 });
    throwsMatching(() => resolveWeights('wide_resnet50_2', r18), /not torchvision wide_resnet50_2 weights/, /mis|missing|wrong shape/);
    writeFileSync(join(empty, 'vgg19.safetensors'), 'x');
    throwsMatching(() => resolveWeights('vgg19'), /without .*vgg19\.json/, /interrupted fetch/, /weights fetch vgg19/);
    throwsMatching(() => resolveWeights('nope' as 'vgg19'), /unknown weights architecture "nope"/, /resnet18, wide_resnet50_2, vgg19, lpips_squeeze/);
  } finally {
    delete process.env.MEDIANOMALY_WEIGHTS;
  }
});

test.run();
