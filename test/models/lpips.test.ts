// LPIPS-squeeze (diffusion spec §3.6) against the reference rebuilt in PyTorch 1.13 /
// torchvision 0.14 (scripts/make-lpips-fixtures.py): seeded random SqueezeNet 1.1 and lin
// layers saved as legacy .pth files like the published ones, imported through the safe
// importer (`weights import --arch lpips_squeeze --trunk`), maps compared. Also the weights
// table, `weights fetch lpips_squeeze` from a server on 127.0.0.1, resolveLPIPSWeights and
// the seeded random weights.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concat, Generator, tensor, type Tensor } from '../../src/engine/index.js';
import { compareState, expectedState } from '../../src/models/backbones/index.js';
import { squeezenetFeaturesState } from '../../src/models/backbones/squeezenet.js';
import { createLPIPSSqueeze, LPIPS_SQUEEZE_CHANNELS, LPIPS_SQUEEZE_TAPS, resolveLPIPSWeights } from '../../src/models/lpips.js';
import { readSafetensors, toFloat32 } from '../../src/nn/safetensors.js';
import {
  checkWeights,
  describeSources,
  fetchWeights,
  hashPrefixOf,
  importPth,
  listCachedWeights,
  LPIPS_BASE_URL,
  LPIPS_SQUEEZE_SHA256,
  SQUEEZENET1_1_WEIGHTS,
  TORCHVISION_BASE_URL,
  weightsSources,
  weightsUrl,
} from '../../src/weights/index.js';
import { throwsMatching } from '../assert-throws.js';
import { cli } from '../cli/helpers.js';
import { rejection, serve } from '../weights/local-server.js';

const FIX = new URL('../fixtures/diffusion/', import.meta.url).pathname;
const LIN_PTH = join(FIX, 'lpips-squeeze.pth');
const TRUNK_PTH = join(FIX, 'lpips-squeezenet1_1.pth');
const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-lpips-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const ref = readSafetensors(join(FIX, 'lpips.safetensors')).tensors;
function fx(name: string): Tensor {
  const t = ref.get(name);
  if (!t) throw new Error(`fixture lacks ${name}`);
  return tensor(Float32Array.from(toFloat32(t)), [...t.shape]);
}

function close(got: Tensor, want: Tensor, tol: number, what: string): void {
  assert.equal(got.shape, want.shape, `${what}: shape`);
  let worst = 0;
  for (let i = 0; i < want.size; i++) worst = Math.max(worst, Math.abs(got.data[i] - want.data[i]));
  assert.ok(worst <= tol, `${what}: max |Δ| ${worst} > ${tol}`);
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

// ---- the file, through the importer ----

const combined = join(tmp, 'lpips_squeeze.safetensors');

test('import: squeeze.pth + the SqueezeNet trunk (legacy .pth, float16 trunk) → one checked lpips_squeeze .safetensors', () => {
  const r = importPth(LIN_PTH, { arch: 'lpips_squeeze', trunk: TRUNK_PTH, out: combined });
  assert.ok(r.report.ok, r.report.message);
  assert.is(r.report.format, 'legacy');
  assert.equal(r.report.conversions, [{ from: 'F16', to: 'F32', count: 50 }]);
  const names = [...readSafetensors(combined).tensors.keys()];
  assert.equal(names, expectedState('lpips_squeeze').map((e) => e.name));
  assert.is(resolveLPIPSWeights(combined).sha256, r.sha256);
  // The check command sees the same.
  assert.ok(checkWeights(LIN_PTH, 'lpips_squeeze', { trunk: TRUNK_PTH }).ok);
});

test('spatial map = PyTorch LPIPS(net="squeeze", v0.1, spatial=True): 1-channel pair, per-tap maps, 3-channel odd-sized pair, identical images', () => {
  const net = createLPIPSSqueeze({ weights: combined });
  const a1 = fx('a1');
  const b1 = fx('b1');
  const taps = net.tapMaps(a1, b1);
  assert.is(taps.length, 7);
  taps.forEach((t, k) => close(t, fx(`tap1.${k}`), 2e-6, `tap ${k}`));
  const m1 = net.spatialMap(a1, b1);
  assert.not.ok(m1.requiresGrad);
  close(m1, fx('map1'), 1e-5, 'map1');
  close(net.spatialMap(fx('a2'), fx('b2')), fx('map2'), 1e-5, 'map2 (3 channels, 37 × 45)');
  const same = net.spatialMap(a1, a1);
  assert.ok(same.data.every((v) => v === 0), 'd(x, x) = 0 exactly');
  // The batch is not mixed: image 1 alone gives image 1's map.
  const one = net.spatialMap(tensor(a1.data.slice(64 * 56), [1, 1, 64, 56]), tensor(b1.data.slice(64 * 56), [1, 1, 64, 56]));
  close(one, tensor(fx('map1').data.slice(64 * 56), [1, 1, 64, 56]), 1e-6, 'image 1 alone');
});

test('input checks name the argument and the shape', () => {
  const net = createLPIPSSqueeze({ weights: 'random' });
  const x = tensor(new Float32Array(2 * 16 * 16), [2, 1, 16, 16]);
  throwsMatching(() => net.spatialMap(x, tensor(new Float32Array(16 * 16), [1, 1, 16, 16])), /same shape/);
  throwsMatching(() => net.spatialMap(tensor(new Float32Array(2 * 2 * 16 * 16), [2, 2, 16, 16]), x), /a must be \[B, 1 or 3, H, W\]/, /\[2, 2, 16, 16\]/);
  throwsMatching(() => net.spatialMap(tensor(new Float32Array(4), [1, 1, 2, 2]), tensor(new Float32Array(4), [1, 1, 2, 2])), /at least 3 × 3/);
  throwsMatching(() => createLPIPSSqueeze({ weights: '' }), /weights must be 'random'/, /weights fetch lpips_squeeze/);
});

// ---- random weights ----

test("weights 'random': seeded (same seed → same map), non-negative, grey = grey replicated to 3 channels", () => {
  const g = new Generator(5);
  const a = tensor(Float32Array.from({ length: 2 * 24 * 20 }, () => g.uniform() * 2 - 1), [2, 1, 24, 20]);
  const b = tensor(Float32Array.from({ length: 2 * 24 * 20 }, () => g.uniform() * 2 - 1), [2, 1, 24, 20]);
  const m1 = createLPIPSSqueeze({ weights: 'random', generator: new Generator(3) }).spatialMap(a, b);
  const m2 = createLPIPSSqueeze({ weights: 'random', generator: new Generator(3) }).spatialMap(a, b);
  const m3 = createLPIPSSqueeze({ weights: 'random', generator: new Generator(4) }).spatialMap(a, b);
  assert.equal(Array.from(m1.data), Array.from(m2.data));
  assert.ok(m1.data.some((v, i) => v !== m3.data[i]));
  assert.ok(m1.data.every((v) => v >= 0));
  const net = createLPIPSSqueeze({ weights: 'random', generator: new Generator(3) });
  const m4 = net.spatialMap(concat([a, a, a], 1), concat([b, b, b], 1));
  close(m4, m1, 1e-7, 'grey vs replicated');
  // Default seed 0 without a generator.
  assert.equal(Array.from(createLPIPSSqueeze({ weights: 'random' }).spatialMap(a, b).data), Array.from(createLPIPSSqueeze({ weights: 'random', generator: new Generator(0) }).spatialMap(a, b).data));
});

// ---- the state the file holds ----

test('lpips_squeeze state: torchvision squeezenet1_1 features (722,496 values) + 7 lin layers; scaling_layer.* and classifier.* ignored', () => {
  assert.equal(LPIPS_SQUEEZE_TAPS, [1, 4, 7, 9, 10, 11, 12]);
  assert.equal(LPIPS_SQUEEZE_CHANNELS, [64, 128, 256, 384, 384, 512, 512]);
  const st = expectedState('lpips_squeeze');
  assert.is(st.length, 50 + 7);
  const count = (l: { shape: number[] }[]) => l.reduce((s, e) => s + e.shape.reduce((a, b) => a * b, 1), 0);
  // torchvision's squeezenet1_1 has 1,235,496 parameters; its classifier conv 512·1000 + 1000.
  assert.is(count(squeezenetFeaturesState()), 1_235_496 - 513_000);
  assert.equal(st.slice(50).map((e) => [e.name, e.shape]), LPIPS_SQUEEZE_CHANNELS.map((c, k) => [`lin${k}.model.1.weight`, [1, c, 1, 1]]));
  const withExtras = [...st, { name: 'scaling_layer.shift', shape: [1, 3, 1, 1] }, { name: 'classifier.1.weight', shape: [1000, 512, 1, 1] }];
  const c = compareState('lpips_squeeze', withExtras);
  assert.ok(c.ok);
  assert.equal(c.ignored, ['scaling_layer.shift', 'classifier.1.weight']);
});

test('refusals: lin file alone, trunk alone, a .pth given as weights, a trunk for a backbone, the same file twice', () => {
  throwsMatching(() => importPth(LIN_PTH, { arch: 'lpips_squeeze', out: join(tmp, 'x.safetensors') }), /50 missing: features\.0\.weight/, /--trunk squeezenet1_1-b8a52dc0\.pth/);
  throwsMatching(() => importPth(TRUNK_PTH, { arch: 'lpips_squeeze', out: join(tmp, 'x.safetensors') }), /7 missing: lin0\.model\.1\.weight/);
  throwsMatching(() => resolveLPIPSWeights(LIN_PTH), /PyTorch checkpoint/, /weights import .*--arch lpips_squeeze --trunk squeezenet1_1-b8a52dc0\.pth/);
  throwsMatching(() => createLPIPSSqueeze({ weights: LIN_PTH }), /PyTorch checkpoint/);
  throwsMatching(() => importPth(TRUNK_PTH, { arch: 'vgg19', trunk: TRUNK_PTH, out: join(tmp, 'x.safetensors') }), /applies to lpips_squeeze only/);
  throwsMatching(() => importPth(LIN_PTH, { arch: 'lpips_squeeze', trunk: LIN_PTH, out: join(tmp, 'x.safetensors') }), /both hold lin0\.model\.1\.weight/);
  assert.not.ok(existsSync(join(tmp, 'x.safetensors')));
  // A backbone's file is not LPIPS weights.
  throwsMatching(() => resolveLPIPSWeights(join(tmp, 'nope.safetensors')), /does not exist/);
});

// ---- the table and `weights fetch` ----

test('weights table: squeeze.pth from the LPIPS repository (no published hash), squeezenet1_1-b8a52dc0.pth from torchvision', () => {
  assert.equal(
    weightsSources('lpips_squeeze').map((s) => [s.role, s.baseUrl + s.file, s.sha256]),
    [
      ['lpips', 'https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/squeeze.pth', null],
      ['trunk', 'https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth', null],
    ],
  );
  assert.is(LPIPS_BASE_URL + 'squeeze.pth', weightsUrl('lpips_squeeze'));
  assert.is(TORCHVISION_BASE_URL + SQUEEZENET1_1_WEIGHTS, 'https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth');
  assert.is(hashPrefixOf(SQUEEZENET1_1_WEIGHTS), 'b8a52dc0');
  assert.is(LPIPS_SQUEEZE_SHA256, null);
  assert.match(describeSources('lpips_squeeze'), /squeeze\.pth.*squeezenet1_1-b8a52dc0\.pth/);
  throwsMatching(() => weightsUrl('lpips_squeeze', 'http://127.0.0.1:1/squeeze.pth'), /folder holding both/);
});


test('fetch lpips_squeeze (127.0.0.1): refused unverified before any download; with the hashes: both files checked, combined, cached, resolved', async () => {
  const lin = readFileSync(LIN_PTH);
  const trunk = readFileSync(TRUNK_PTH);
  const srv = await serve({ '/m/squeeze.pth': { body: lin }, '/m/squeezenet1_1-b8a52dc0.pth': { body: trunk } });
  const cacheDir = join(tmp, 'cache');
  try {
    const url = `${srv.base}/m/`;
    // No hash for squeeze.pth: nothing is downloaded.
    let e = await rejection(fetchWeights('lpips_squeeze', { url, cacheDir }));
    assert.match(e.message, /publishes no SHA-256 for squeeze\.pth/);
    assert.match(e.message, /--sha256/);
    assert.match(e.message, /weights import squeeze\.pth --arch lpips_squeeze --trunk squeezenet1_1-b8a52dc0\.pth/);
    assert.equal(srv.requests, []);
    // The main hash given, but the served trunk is not torchvision's file: its name's prefix catches it.
    e = await rejection(fetchWeights('lpips_squeeze', { url, cacheDir, sha256: sha(lin) }));
    assert.match(e.message, /squeezenet1_1-b8a52dc0\.pth: the SHA-256 .* starts with b8a52dc0/);
    assert.not.ok(existsSync(cacheDir) && readdirSync(cacheDir).length > 0, 'nothing cached');
    // A wrong main hash.
    e = await rejection(fetchWeights('lpips_squeeze', { url, cacheDir, sha256: '0'.repeat(64) }));
    assert.match(e.message, /it must be 0{64}/);
    // Both hashes given (the trunk's full hash replaces its prefix rule).
    const r = await fetchWeights('lpips_squeeze', { url, cacheDir, sha256: { 'squeeze.pth': sha(lin), [SQUEEZENET1_1_WEIGHTS]: sha(trunk) } });
    assert.is(r.sourceSha256, sha(lin));
    assert.is(r.trunkSha256, sha(trunk));
    const rec = JSON.parse(readFileSync(join(cacheDir, 'lpips_squeeze.json'), 'utf8'));
    assert.is(rec.source.file, 'squeeze.pth');
    assert.is(rec.trunk.file, SQUEEZENET1_1_WEIGHTS);
    assert.is(rec.trunk.format, 'legacy');
    // The same tensors as the import (the metadata differ: they name the source files).
    const cached = readSafetensors(r.path).tensors;
    for (const [name, t] of readSafetensors(combined).tensors) assert.equal(Array.from(toFloat32(cached.get(name)!)), Array.from(toFloat32(t)), name);
    process.env.MEDIANOMALY_WEIGHTS = cacheDir;
    assert.equal(resolveLPIPSWeights(null), { path: r.path, sha256: r.sha256 });
    const row = listCachedWeights().find((l) => l.arch === 'lpips_squeeze');
    assert.ok(row?.cached && !row.problem);
  } finally {
    delete process.env.MEDIANOMALY_WEIGHTS;
    await srv.close();
  }
  // Nothing cached: the error names the fetch.
  process.env.MEDIANOMALY_WEIGHTS = join(tmp, 'empty');
  try {
    throwsMatching(() => resolveLPIPSWeights(null), /no LPIPS-squeeze weights/, /weights fetch lpips_squeeze/, /squeeze\.pth and torchvision's squeezenet1_1-b8a52dc0\.pth/);
  } finally {
    delete process.env.MEDIANOMALY_WEIGHTS;
  }
});

test('CLI: weights import --arch lpips_squeeze --trunk, check, and fetch refused without --sha256 (nothing contacted)', () => {
  const out = join(tmp, 'cli.safetensors');
  const env = { MEDIANOMALY_WEIGHTS: join(tmp, 'cli-cache') };
  const imp = cli(['weights', 'import', LIN_PTH, '--arch', 'lpips_squeeze', '--trunk', TRUNK_PTH, '--out', out], tmp, env);
  assert.is(imp.code, 0, imp.stdout + imp.stderr);
  assert.match(imp.stdout, /converted F16 → F32: 50 tensor\(s\)/);
  assert.match(imp.stdout, /OK: fits LPIPS-squeeze/);
  const chk = cli(['weights', 'check', out, '--arch', 'lpips_squeeze'], tmp, env);
  assert.is(chk.code, 0, chk.stdout + chk.stderr);
  // Port 1 on 127.0.0.1: a download attempt would fail with ECONNREFUSED, not this message.
  const f = cli(['weights', 'fetch', 'lpips_squeeze', '--url', 'http://127.0.0.1:1/m/'], tmp, env);
  assert.is(f.code, 1);
  assert.match(f.stderr, /publishes no SHA-256 for squeeze\.pth/);
  assert.match(f.stderr, /nothing was downloaded/);
});

test.run();
