// Integrity of a run folder's weights and checkpoint (issue 7, parts 3–4): SHA-256 of
// every weights file recorded when written and checked on load; checkpoint.json may only
// name an epoch folder of its own checkpoint; no symbolic link inside a run folder is
// followed; leftovers of a killed run are removed on resume.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunInterrupted } from '../../src/harness/interrupted.js';
import { readLog } from '../../src/harness/run-folder.js';
import { testRun, train } from '../../src/harness/train.js';
import { loadMethod } from '../../src/methods/registry.js';
import { TINY, TINY_AE, rejection, tempDir } from './helpers.js';

const root = tempDir();
const OPTS = { ...TINY_AE, epochs: 3 };
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Flips one bit near the end of a file: in a safetensors file, a weight, so the format still parses. */
function flipBit(path: string): void {
  const b = readFileSync(path);
  b[b.length - 3] ^= 0x10;
  writeFileSync(path, b);
}

/** A run stopped after epoch 1 of 3: run.json "training", checkpoint/epoch-0001. */
async function interruptedRun(name: string): Promise<string> {
  const dir = join(root, name);
  const ctl = new AbortController();
  const err = await rejection(() => train({ method: 'ae', dataset: TINY, options: OPTS, dir, evaluate: false }, { signal: ctl.signal, onEpoch: () => ctl.abort() }));
  assert.instance(err, RunInterrupted);
  return dir;
}

const resume = (dir: string) => rejection(() => train({ method: 'ae', dataset: TINY, options: OPTS, dir, resume: true, evaluate: false }));

let trained = '';
let interrupted = '';
test.before(async () => {
  trained = join(root, 'trained');
  await train({ method: 'ae', dataset: TINY, options: TINY_AE, dir: trained, evaluate: false });
  interrupted = await interruptedRun('interrupted');
});

function copy(from: string, name: string): string {
  const to = join(root, name);
  cpSync(from, to, { recursive: true });
  return to;
}

test('config.json records the SHA-256 of model.safetensors; checkpoint.json of each tensor file', () => {
  const cfg = JSON.parse(readFileSync(join(trained, 'config.json'), 'utf8'));
  assert.equal(cfg.sha256, { 'model.safetensors': sha256(join(trained, 'model.safetensors')) });
  const ck = JSON.parse(readFileSync(join(interrupted, 'checkpoint', 'checkpoint.json'), 'utf8'));
  const files = readdirSync(join(interrupted, 'checkpoint', ck.folder)).sort();
  assert.equal(Object.keys(ck.sha256).sort(), files);
  for (const f of files) assert.is(ck.sha256[f], sha256(join(interrupted, 'checkpoint', ck.folder, f)), f);
});

test('a flipped bit in model.safetensors is refused on load, naming the file', async () => {
  const dir = copy(trained, 'flipped-model');
  flipBit(join(dir, 'model.safetensors'));
  for (const load of [() => testRun(dir), () => loadMethod(dir)]) {
    const err = await rejection(load);
    assert.ok(err.message.includes(join(dir, 'model.safetensors')), err.message);
    assert.match(err.message, /was changed or corrupted after it was written/);
    assert.match(err.message, /restore model\.safetensors from a backup or train the method again/);
  }
});

test('a saved method without hashes (older version) is refused, saying how to accept the file', async () => {
  const dir = copy(trained, 'no-hashes');
  const cfgPath = join(dir, 'config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  delete cfg.sha256;
  writeFileSync(cfgPath, JSON.stringify(cfg));
  const err = await rejection(() => loadMethod(dir));
  assert.match(err.message, /config\.json records no SHA-256 for model\.safetensors/);
  assert.match(err.message, /sha256sum .*model\.safetensors/);
  // Following the message's advice makes it load.
  cfg.sha256 = { 'model.safetensors': sha256(join(dir, 'model.safetensors')) };
  writeFileSync(cfgPath, JSON.stringify(cfg));
  await loadMethod(dir);
});

test('a flipped bit in a checkpoint file (weights or optimiser state) stops the resume, naming the file', async () => {
  const files = readdirSync(join(interrupted, 'checkpoint', 'epoch-0001'));
  assert.ok(files.some((f) => f.startsWith('optimizer-')), files.join(', '));
  for (const f of files) {
    const dir = copy(interrupted, `flipped-${f}`);
    flipBit(join(dir, 'checkpoint', 'epoch-0001', f));
    const err = await resume(dir);
    assert.ok(err.message.includes(join(dir, 'checkpoint', 'epoch-0001', f)), err.message);
    assert.match(err.message, /was changed or corrupted after it was written/);
  }
});

test('checkpoint.json naming a folder outside its checkpoint (absolute, "..") is refused, naming file and value', async () => {
  const victim = copy(interrupted, 'victim');
  for (const [name, value] of [
    ['dotdot', '../../victim/checkpoint/epoch-0001'],
    ['absolute', join(victim, 'checkpoint', 'epoch-0001')],
    ['nested', 'epoch-0001/../epoch-0001'],
  ]) {
    const dir = copy(interrupted, `pointer-${name}`);
    const pointer = join(dir, 'checkpoint', 'checkpoint.json');
    writeFileSync(pointer, JSON.stringify({ ...JSON.parse(readFileSync(pointer, 'utf8')), folder: value }));
    const err = await resume(dir);
    assert.ok(err.message.includes(pointer), err.message);
    assert.ok(err.message.includes(JSON.stringify(value)), err.message);
    assert.match(err.message, /not an epoch-<n> folder inside/);
  }
});

/** Every entry under `dir`, files with their SHA-256: what must stay unchanged. */
function snapshot(dir: string, out: Record<string, string> = {}, prefix = ''): Record<string, string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) snapshot(p, out, `${prefix}${e.name}/`);
    else out[prefix + e.name] = sha256(p);
  }
  return out;
}

test('a checkpoint/ symlink: resume refuses and writes or deletes nothing in the target', async () => {
  const dir = copy(interrupted, 'linked');
  const outside = join(root, 'outside-checkpoint');
  renameSync(join(dir, 'checkpoint'), outside);
  symlinkSync(outside, join(dir, 'checkpoint'));
  const before = snapshot(outside);
  const err = await resume(dir);
  assert.ok(err.message.includes(join(dir, 'checkpoint')), err.message);
  assert.match(err.message, /is a symbolic link \(to .*outside-checkpoint\); medianomaly never follows a link inside/);
  assert.equal(snapshot(outside), before);
  // A new run into a folder that holds only such a link is refused the same way.
  const fresh = join(root, 'fresh-linked');
  mkdirSync(fresh);
  symlinkSync(outside, join(fresh, 'checkpoint'));
  assert.match((await rejection(() => train({ method: 'ae', dataset: TINY, options: OPTS, dir: fresh }))).message, /checkpoint is a symbolic link/);
  assert.equal(snapshot(outside), before);
});

test('links deeper in a run folder are refused too: an epoch folder, the model, the log', async () => {
  const epochLink = copy(interrupted, 'linked-epoch');
  const elsewhere = join(root, 'elsewhere-epoch');
  renameSync(join(epochLink, 'checkpoint', 'epoch-0001'), elsewhere);
  symlinkSync(elsewhere, join(epochLink, 'checkpoint', 'epoch-0001'));
  assert.match((await resume(epochLink)).message, /epoch-0001 is a symbolic link/);

  const modelLink = copy(trained, 'linked-model');
  renameSync(join(modelLink, 'model.safetensors'), join(root, 'elsewhere.safetensors'));
  symlinkSync(join(root, 'elsewhere.safetensors'), join(modelLink, 'model.safetensors'));
  assert.match((await rejection(() => testRun(modelLink))).message, /model\.safetensors is a symbolic link/);

  const logLink = copy(interrupted, 'linked-log');
  writeFileSync(join(root, 'elsewhere.log'), 'keep me\n');
  renameSync(join(logLink, 'log'), join(root, 'unused.log'));
  symlinkSync(join(root, 'elsewhere.log'), join(logLink, 'log'));
  assert.match((await resume(logLink)).message, /log is a symbolic link/);
  assert.is(readFileSync(join(root, 'elsewhere.log'), 'utf8'), 'keep me\n');
});

test('resume removes leftovers: temp files, temp and unreferenced epoch folders', async () => {
  const dir = copy(interrupted, 'leftovers');
  const ck = join(dir, 'checkpoint');
  writeFileSync(join(dir, '.run.json.123.0.tmp'), '{');
  writeFileSync(join(dir, 'log.tmp-123-abc'), '');
  writeFileSync(join(ck, 'checkpoint.json.tmp-123-abc'), '');
  mkdirSync(join(ck, 'epoch-0002.tmp-123'));
  writeFileSync(join(ck, 'epoch-0002.tmp-123', 'model.safetensors.tmp-123-1'), '');
  mkdirSync(join(ck, 'epoch-0007')); // a folder checkpoint.json does not name
  // A line of epoch 2, written before a kill stopped its checkpoint: cut before training resumes.
  writeFileSync(join(dir, 'log'), readFileSync(join(dir, 'log'), 'utf8') + JSON.stringify({ epoch: 2, loss: 1, seconds: 1, imagesPerSecond: 1 }) + '\n');
  const seen: string[][] = [];
  let logAtStart: number[] | undefined;
  await train(
    { method: 'ae', dataset: TINY, options: OPTS, dir, resume: true, evaluate: false },
    { onProgress: () => (logAtStart ??= readLog(dir).map((l) => l.epoch)), onEpoch: () => seen.push(readdirSync(ck).sort()) },
  );
  assert.equal(logAtStart, [1]);
  // At the end of epoch 2 (before its commit) only the checkpoint of epoch 1 is there.
  assert.equal(seen[0], ['checkpoint.json', 'epoch-0001']);
  assert.equal(readdirSync(dir).sort(), ['calibration.json', 'config.json', 'log', 'model.safetensors', 'run.json']);
  assert.equal(readLog(dir).map((l) => l.epoch), [1, 2, 3]);
});

test.run();
