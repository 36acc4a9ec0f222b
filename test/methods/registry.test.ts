// The method registry: what methods.list() reports, option validation in createMethod,
// loadMethod on folders that are not saved methods, and the network sizes of §4.8.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMethod, loadMethod, methods, registerMethod } from '../../src/methods/index.js';
import { zeros } from '../../src/engine/index.js';
import { UnifiedAE } from '../../src/models/unified-ae.js';
import { MemAE, SpatialAE } from '../../src/models/ae-variants.js';
import { rejects } from './helpers.js';
import { checkMethodName } from '../../src/cli/method-options.js';

const MINE = ['ae', 'ae-l1', 'ae-ssim', 'ae-spatial', 'ae-grad', 'constrained-ae', 'memae', 'ceae', 'aeu'];
const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-registry-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test('methods.list() describes every reconstruction method with the reference defaults', () => {
  const list = methods.list();
  const names = list.map((m) => m.name);
  for (const n of MINE) assert.ok(names.includes(n), `${n} is listed`);
  assert.is(new Set(names).size, names.length, 'names are unique');
  for (const info of list.filter((m) => MINE.includes(m.name))) {
    assert.is(info.family, 'image-reconstruction');
    assert.is(info.defaultSize, 64);
    assert.is(info.pixelMaps, true);
    assert.ok(info.title.length > 0 && info.description.length > 0);
    const d = Object.fromEntries(info.options.map((o) => [o.name, o.default]));
    assert.equal(
      { epochs: d.epochs, batchSize: d.batchSize, lr: d.lr, size: d.size, channels: d.channels, latent: d.latent, hidden: d.hidden, width: d.width, expansion: d.expansion, depth: d.depth, aeLinearOutput: d.aeLinearOutput, imageScore: d.imageScore },
      { epochs: 250, batchSize: 64, lr: 1e-3, size: 64, channels: 1, latent: 16, hidden: 1024, width: 16, expansion: 1, depth: 1, aeLinearOutput: true, imageScore: 'mean' },
      info.name,
    );
    for (const o of info.options) assert.ok(o.description.length > 0, `${info.name}.${o.name} has a description`);
  }
  const quirk = (m: string, o: string) => methods.info(m).options.find((x) => x.name === o)?.default;
  assert.is(quirk('ae-ssim', 'ssimValidWindow'), true);
  assert.is(quirk('constrained-ae', 'constrainedAeSecondPassBn'), true);
  assert.is(quirk('memae', 'memSlots'), 25);
  assert.is(quirk('memae', 'shrinkThreshold'), 0.0025);
  assert.is(quirk('memae', 'entropyWeight'), 0.0002);
  assert.is(quirk('ceae', 'eraseScale'), 0.024);
});

test('createMethod resolves defaults and keeps given values', () => {
  const m = createMethod('ae', { latent: 4, epochs: 600 });
  assert.is(m.info.name, 'ae');
  assert.is(m.options.latent, 4);
  assert.is(m.options.epochs, 600);
  assert.is(m.options.hidden, 1024);
  assert.is(m.options.seed, 0);
  // undefined counts as absent
  assert.is(createMethod('ae', { latent: undefined }).options.latent, 16);
});

test('createMethod rejects unknown names and bad options with errors that say what is allowed', () => {
  // The @ts-expect-error lines are compile errors too (typed names and options); JavaScript callers get the run-time errors.
  // @ts-expect-error
  assert.throws(() => createMethod('nope'), /unknown method "nope"; known methods: .*ae, ae-l1/);
  // @ts-expect-error
  assert.throws(() => createMethod('ae', { latnet: 4 }), /ae: unknown option "latnet"; valid options: epochs, batchSize, lr, seed, size, channels, latent/);
  // @ts-expect-error
  assert.throws(() => createMethod('ae', { latent: '4' }), /option "latent" must be a finite number, got "4"/);
  assert.throws(() => createMethod('ae', { latent: 2.5 }), /option "latent" must be an integer, got 2.5/);
  assert.throws(() => createMethod('ae', { latent: 0 }), /option "latent" must be ≥ 1, got 0/);
  assert.throws(() => createMethod('ae', { lr: Number.NaN }), /option "lr" must be a finite number/);
  // @ts-expect-error
  assert.throws(() => createMethod('ae', { aeLinearOutput: 'yes' }), /option "aeLinearOutput" must be true or false/);
  // @ts-expect-error
  assert.throws(() => createMethod('ae', { imageScore: 'median' }), /option "imageScore" must be one of mean, max; got "median"/);
  assert.throws(() => createMethod('memae', { shrinkThreshold: 2 }), /option "shrinkThreshold" must be in \[0, 1\], got 2/);
  // @ts-expect-error
  assert.throws(() => createMethod('ae', { seed: null }), /option "seed" cannot be null/);
  assert.throws(() => createMethod('ae', [] as unknown as Record<string, unknown>), /options must be an object/);
  // An option of another method is unknown here.
  // @ts-expect-error
  assert.throws(() => createMethod('ae', { ssimValidWindow: false }), /unknown option "ssimValidWindow"/);
});

test('a method cannot be registered twice or under a malformed name', () => {
  const info = methods.info('ae');
  assert.throws(() => registerMethod({ info, create: () => createMethod('ae') }), /"ae" is already registered/);
  assert.throws(() => registerMethod({ info: { ...info, name: 'Bad Name' }, create: () => createMethod('ae') }), /kebab-case/);
});

test('loadMethod says clearly when a folder is not a saved method', async () => {
  await rejects(() => loadMethod(join(tmp, 'missing')), /is not a saved medianomaly method: the folder does not exist/);
  const empty = join(tmp, 'empty');
  mkdirSync(empty);
  await rejects(() => loadMethod(empty), /not a saved medianomaly method: no config.json/);
  const bad = join(tmp, 'bad-json');
  mkdirSync(bad);
  writeFileSync(join(bad, 'config.json'), '{ nope');
  await rejects(() => loadMethod(bad), /config.json is not valid JSON/);
  const other = join(tmp, 'other-json');
  mkdirSync(other);
  writeFileSync(join(other, 'config.json'), JSON.stringify({ name: 'x' }));
  await rejects(() => loadMethod(other), /has format undefined, expected "medianomaly-method"/);
  const noModel = join(tmp, 'no-model');
  mkdirSync(noModel);
  writeFileSync(join(noModel, 'config.json'), JSON.stringify({ format: 'medianomaly-method', version: 1, method: 'ae', options: {} }));
  await rejects(() => loadMethod(noModel), /no model.safetensors/);
  const unknown = join(tmp, 'unknown');
  mkdirSync(unknown);
  // sha256 of the empty model file: the hash check passes, so the method name is what fails.
  const emptySha = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  writeFileSync(join(unknown, 'config.json'), JSON.stringify({ format: 'medianomaly-method', version: 1, method: 'zz', options: {}, sha256: { 'model.safetensors': emptySha } }));
  writeFileSync(join(unknown, 'model.safetensors'), '');
  await rejects(() => loadMethod(unknown), /saved method "zz" is not registered here/);
  const file = join(tmp, 'a-file');
  writeFileSync(file, 'x');
  await rejects(() => loadMethod(file), /not a saved medianomaly method: it is not a folder/);
});

test('network sizes match methods.md §4.8', () => {
  assert.is(new UnifiedAE({ seed: 1 }).numParameters(), 2_351_184);
  assert.is(new UnifiedAE({ seed: 1, inChannels: 3 }).numParameters(), 2_352_208);
  assert.is(new UnifiedAE({ seed: 1, outChannels: 2 }).numParameters(), 2_351_440); // AE-U
  assert.is(new MemAE({ seed: 1 }).numParameters(), 2_351_584);
  assert.is(new SpatialAE({ seed: 1 }).numParameters(), 382_016);
  // AE-Spatial keeps the s/16 grid in z.
  const spatial = new SpatialAE({ seed: 1, size: 32, width: 2, hidden: 8, latent: 3 });
  spatial.eval();
  assert.equal(spatial.encode(zeros([2, 1, 32, 32])).shape, [2, 3, 2, 2]);
  assert.equal(spatial.forward(zeros([2, 1, 32, 32])).shape, [2, 1, 32, 32]);
});

test("an alias selects its method (rd++ is rdpp) and may not shadow a name or another alias", () => {
  const m = createMethod('rd++' as string, { backbone: 'resnet18', weights: 'random', size: 64 });
  assert.is(m.info.name, 'rdpp');
  assert.is(methods.info('rd++').name, 'rdpp');
  assert.not.ok(methods.names().includes('rd++'), 'names() lists registered names only');
  assert.is(checkMethodName('rd++'), 'rdpp', 'the CLI runs an alias under the registered name (runs/rdpp-…)');
  assert.throws(() => checkMethodName('rd+++'), /unknown method "rd\+\+\+"; known methods: .*rdpp/);
  const base = methods.info('ae');
  assert.throws(() => registerMethod({ info: { ...base, name: 'alias-clash-a', aliases: ['ae'] }, create: () => { throw new Error('unused'); } }), /alias "ae" of alias-clash-a is already a method name or alias/);
  assert.throws(() => registerMethod({ info: { ...base, name: 'alias-clash-b', aliases: ['rd++'] }, create: () => { throw new Error('unused'); } }), /alias "rd\+\+" of alias-clash-b/);
});

test.run();
