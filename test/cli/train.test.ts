// train → test → predict through the CLI on a tiny synthetic setting, and Ctrl-C during
// training: the run keeps its checkpoint, the message says how to resume, and resuming
// finishes it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { BIN, TINY_FLAGS, cli, cliAsync, sh, tempDir } from './helpers.js';
import { writeNifti } from '../data/helpers/nifti-writer.js';
import { readSafetensors, writeSafetensors } from '../../src/nn/safetensors.js';

const root = tempDir();

test('train writes a run folder with its metrics; test --json reproduces them', () => {
  const r = cli(['train', '--method', 'ae', '--dataset', 'synth-brain', '--epochs', '2', ...TINY_FLAGS], root);
  assert.is(r.code, 0, r.stderr);
  const dir = join(root, 'runs', 'ae-synth-brain-s0'); // the default folder
  assert.equal(readdirSync(dir).sort(), ['calibration.json', 'config.json', 'log', 'metrics.json', 'model.safetensors', 'run.json', 'scores.json']);
  assert.match(r.stdout, /trained: .*ae-synth-brain-s0 \(2 epochs/);
  assert.match(r.stdout, /image {2}AUROC \d+\.\d%/);
  // stderr is not a terminal here: plain progress lines, one per epoch.
  assert.match(r.stderr, /^ae synth-brain epoch 1\/2 loss \d\.\d+ +\d+(\.\d+)? img\/s +ETA \d+:\d\d$/m);
  assert.match(r.stderr, /^ae synth-brain epoch 2\/2 /m);
  const log = readFileSync(join(dir, 'log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(log.map((l) => l.epoch), [1, 2]);
  assert.equal(Object.keys(log[0]).sort(), ['epoch', 'imagesPerSecond', 'loss', 'seconds']);
  const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));

  const t = cli(['test', '--run', dir, '--json'], root);
  assert.is(t.code, 0, t.stderr);
  assert.equal(JSON.parse(t.stdout), metrics);

  // A second train into the same folder is refused without --resume.
  const again = cli(['train', '--method', 'ae', '--dataset', 'synth-brain', '--epochs', '2', ...TINY_FLAGS], root);
  assert.is(again.code, 1);
  assert.match(again.stderr, /already holds a run .* pass --resume/);
});

test('long work is visible: the time estimate, a step line per heartbeat (interval 0 here), scoring counts', () => {
  const out = join(root, 'visible');
  const r = cli(['train', '--method', 'ae', '--dataset', 'synth-brain', '--epochs', '2', ...TINY_FLAGS, '--out', out], root, { MEDIANOMALY_HEARTBEAT_S: '0' });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /^ae synth-brain estimated training time \d+:\d\d \(2 epochs × 24 images at 32 px; [\d.]+ img\/s measured on the first 3 steps\), then testing 12 images$/m);
  assert.match(r.stderr, /^ae synth-brain epoch 1\/2 step 1\/3 loss \d\.\d+ +[\d.]+ img\/s +ETA /m);
  assert.match(r.stderr, /^ae synth-brain epoch 2\/2 step 2\/3 /m);
  assert.not.match(r.stderr, / 0 img\/s/);
  assert.match(r.stderr, /^ae synth-brain scored 12\/12 test images +[\d.]+ img\/s +in \d+:\d\d$/m);
  // `test` reports its scoring too.
  const t = cli(['test', '--run', out], root);
  assert.is(t.code, 0, t.stderr);
  assert.match(t.stderr, /loading the test split, then scoring it\n(.*\n)*.*scored 12\/12 test images +[\d.]+ img\/s +in \d+:\d\d$/m);
});

test('options that cannot train fail before a run folder exists; the corrected rerun needs no --resume', () => {
  const out = join(root, 'dae-size');
  const flags = ['--dataset', 'synth-brain', '--epochs', '1', '--train-count', '24', '--test-count', '12', '--batch-size', '8', '--out', out];
  const bad = cli(['train', '--method', 'dae', '--size', '50', ...flags], root);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /dae: size must be a multiple of 16 and at least 32 .*got 50/);
  assert.not.ok(existsSync(out), 'no folder for a run that never started');
  const good = cli(['train', '--method', 'dae', '--size', '32', ...flags], root);
  assert.is(good.code, 0, good.stderr);
  assert.ok(existsSync(join(out, 'metrics.json')));
});

test('predict scores image files and writes one overlay PNG per image', async () => {
  const dir = join(root, 'runs', 'ae-synth-brain-s0');
  const images: string[] = [];
  for (const [k, level] of [[0, 60], [1, 200]] as const) {
    const px = Buffer.alloc(48 * 40, level);
    for (let i = 0; i < 200; i++) px[(i * 37) % px.length] = 255; // some structure
    const f = join(root, `input-${k}.png`);
    await sharp(px, { raw: { width: 48, height: 40, channels: 1 } }).png().toFile(f);
    images.push(f);
  }
  const out = join(root, 'pred');
  const r = cli(['predict', '--run', dir, ...images, '--out', out, '--json'], root);
  assert.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.is(j.predictions.length, 2);
  for (const p of j.predictions) {
    assert.ok(Number.isFinite(p.score) && p.score >= 0);
    assert.ok(existsSync(p.overlay));
    const meta = await sharp(p.overlay).metadata();
    assert.is(meta.format, 'png');
    assert.is(meta.height, 96); // 32 px upscaled 3×
    assert.ok(meta.width! > 96); // and a colour bar beside it
    assert.is(meta.channels, 3);
  }
  assert.equal(readdirSync(out).sort(), ['input-0-overlay.png', 'input-1-overlay.png']);
  // The overlay is coloured (a jet map), not the gray input.
  const { data } = await sharp(j.predictions[1].overlay).raw().toBuffer({ resolveWithObject: true });
  let coloured = 0;
  for (let i = 0; i < data.length; i += 3) if (data[i] !== data[i + 1] || data[i + 1] !== data[i + 2]) coloured++;
  assert.ok(coloured > data.length / 6);

  const missing = cli(['predict', '--run', dir, join(root, 'nope.png')], root);
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /nope\.png does not exist/);
});

test('predict: a non-finite voxel is an error naming the file (exit 1), --non-finite clamp scores it; a diverged model gives no NaN score', async () => {
  const dir = join(root, 'runs', 'ae-synth-brain-s0');
  const data = Array.from({ length: 32 * 32 }, (_, i) => (i % 7) * 10);
  data[5] = -Infinity;
  const nii = join(root, 'scan-inf.nii');
  writeFileSync(nii, writeNifti({ dims: [32, 32, 1], datatype: 'float32', data }));
  const refused = cli(['predict', '--run', dir, nii, '--json'], root);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /scan-inf\.nii/);
  assert.match(refused.stderr, /not finite/);
  assert.match(refused.stderr, /--non-finite clamp/);
  const clamped = cli(['predict', '--run', dir, nii, '--json', '--non-finite', 'clamp', '--out', join(root, 'pred-clamp')], root);
  assert.is(clamped.code, 0, clamped.stderr);
  assert.ok(Number.isFinite(JSON.parse(clamped.stdout).predictions[0].score));
  const bad = cli(['predict', '--run', dir, nii, '--non-finite', 'sometimes'], root);
  assert.is(bad.code, 2); // a usage error, as for any flag with a wrong value
  assert.match(bad.stderr, /non-finite/);

  // Weights that are finite but overflow float32 inside the network (×1e30), re-hashed so the
  // run folder accepts them: the score would be NaN/Infinity; predict refuses to print it.
  const diverged = join(root, 'diverged');
  cpSync(dir, diverged, { recursive: true });
  const model = join(diverged, 'model.safetensors');
  const st = readSafetensors(model);
  const scaled = new Map([...st.tensors].map(([k, t]) => [k, t.dtype === 'F32' ? { ...t, data: (t.data as Float32Array).map((v) => v * 1e30) } : t]));
  writeSafetensors(model, scaled, st.metadata);
  const config = JSON.parse(readFileSync(join(diverged, 'config.json'), 'utf8'));
  config.sha256['model.safetensors'] = createHash('sha256').update(readFileSync(model)).digest('hex');
  writeFileSync(join(diverged, 'config.json'), JSON.stringify(config));
  const png = join(root, 'input-0.png');
  const r = cli(['predict', '--run', diverged, png], root);
  assert.is(r.code, 1, r.stdout);
  assert.match(r.stderr, /gave the score (NaN|-?Infinity) for .*input-0\.png/);
});

test('Ctrl-C during training keeps the checkpoint, says how to resume, and --resume finishes', async () => {
  const out = join(root, 'interrupted');
  const args = ['train', '--method', 'ae', '--dataset', 'synth-brain', '--epochs', '400', ...TINY_FLAGS, '--out', out];
  let sent = false;
  const r = await cliAsync(args, root, (err, child) => {
    if (!sent && /epoch 2\/400/.test(err)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  assert.ok(sent, r.stderr);
  assert.is(r.code, 130, r.stderr);
  assert.match(r.stderr, /interrupted\. .*training stopped after \d+ of 400 epochs \(checkpoint kept in .*checkpoint\)/);
  assert.match(r.stderr, /Not finished: training, then testing\./);
  // The command as it was run here (node and the script: a bare "medianomaly" is not on the PATH).
  const resume = /Resume with: (.*)$/m.exec(r.stderr);
  assert.ok(resume, r.stderr);
  assert.ok(resume![1].startsWith(`node ${BIN} train `), resume![1]);
  assert.match(resume![1], /--out \S*interrupted.* --resume$/);
  assert.ok(existsSync(join(out, 'checkpoint', 'checkpoint.json')));
  assert.not.ok(existsSync(join(out, 'metrics.json')));
  const done = JSON.parse(readFileSync(join(out, 'checkpoint', 'checkpoint.json'), 'utf8')).epoch as number;
  const logged = readFileSync(join(out, 'log'), 'utf8').trim().split('\n').length;
  assert.ok(done >= 2 && logged >= done, `${done} epochs checkpointed, ${logged} logged`);

  // The printed command, run by a shell as pasted, resumes (with fewer epochs here, to keep the test short).
  const cont = sh(resume![1].replace(' 400 ', ` ${done + 1} `), root);
  assert.is(cont.code, 0, cont.stderr);
  assert.ok(existsSync(join(out, 'metrics.json')));
  const epochs = readFileSync(join(out, 'log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).epoch);
  assert.equal(epochs, Array.from({ length: done + 1 }, (_, i) => i + 1));
});

test.run();
