// kill -9 at every named point of an epoch's commit, then --resume (issue 7, part 4):
// the log has exactly one line per epoch, no temp file is left, and the final weights
// equal an uninterrupted run's bit for bit (same backend, same seed). The kill lands
// where a crash hook in the child (crash-child.ts) says, never after a timer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CRASH_POINTS, type CrashPoint } from '../../src/methods/training/crash-points.js';
import { readCheckpoint } from '../../src/methods/training/checkpoint.js';
import { readLog } from '../../src/harness/run-folder.js';
import { train } from '../../src/harness/train.js';
import { CRASH_OPTIONS, TINY, tempDir } from './helpers.js';

const root = tempDir();
const CHILD = new URL('./crash-child.ts', import.meta.url).pathname;
const EPOCHS = CRASH_OPTIONS.epochs;

const child = (dir: string, point: string, epoch: number, mode: 'self' | 'wait') =>
  [process.execPath, ['--import', 'tsx', CHILD, dir, point, String(epoch), mode]] as const;

/** Every name under `dir`, recursively. */
function allNames(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => [e.name, ...(e.isDirectory() ? allNames(join(dir, e.name)) : [])]);
}

let straight: { model: Buffer; lossCurve: number[] };
test.before(async () => {
  const dir = join(root, 'straight');
  const out = await train({ method: 'ae', dataset: TINY, options: CRASH_OPTIONS, dir, evaluate: false });
  straight = { model: readFileSync(join(dir, 'model.safetensors')), lossCurve: out.fit!.lossCurve };
});

/** After a kill: the log is never behind the checkpoint (a line may be ahead by one uncommitted epoch). */
function assertLogNotBehind(dir: string, label: string): void {
  const logged = readLog(dir).map((l) => l.epoch);
  const ck = existsSync(join(dir, 'checkpoint')) ? readCheckpoint(join(dir, 'checkpoint')) : null;
  const done = ck?.epoch ?? (existsSync(join(dir, 'model.safetensors')) ? EPOCHS : 0);
  assert.ok(logged.length >= done, `${label}: log ${JSON.stringify(logged)} behind checkpoint epoch ${done}`);
  assert.equal(logged, logged.map((_, i) => i + 1), `${label}: log epochs`);
}

/** Resumes the killed run in this process and checks it ended like the uninterrupted one. */
async function resumeAndCompare(dir: string, label: string): Promise<void> {
  await train({ method: 'ae', dataset: TINY, options: CRASH_OPTIONS, dir, resume: true, evaluate: false });
  assert.equal(readLog(dir).map((l) => l.epoch), [1, 2, 3], `${label}: one log line per epoch`);
  assert.equal(allNames(dir).filter((f) => f.includes('.tmp')), [], `${label}: temp files left`);
  assert.not.ok(existsSync(join(dir, 'checkpoint')), `${label}: checkpoint left`);
  assert.ok(readFileSync(join(dir, 'model.safetensors')).equals(straight.model), `${label}: weights differ from the uninterrupted run`);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.equal(cfg.training.lossCurve, straight.lossCurve, `${label}: loss curve`);
}

// Epoch 2 of 3 has an older epoch to clean up; epoch 1 has none and no checkpoint yet;
// "saved" and "trained" come after the last epoch.
const KILLS: Array<[CrashPoint, number]> = [
  ...CRASH_POINTS.filter((p) => p !== 'saved' && p !== 'trained').map((p): [CrashPoint, number] => [p, 2]),
  ['log', 1],
  ['epoch-folder', 1],
  ['saved', EPOCHS],
  ['trained', EPOCHS],
];

/** Runs a child to its crash point; resolves with the signal that ended it and its stderr. */
function runChild(dir: string, point: string, epoch: number, mode: 'self' | 'wait'): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
  const [cmd, args] = child(dir, point, epoch, mode);
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (d: Buffer) => (stderr += d));
    // wait mode: the child reached the point and blocks there; kill -9 it from here.
    c.stdout.on('data', (d: Buffer) => mode === 'wait' && d.toString().includes(`at ${point} ${epoch}`) && c.kill('SIGKILL'));
    c.on('close', (_code, signal) => resolve({ signal, stderr }));
  });
}

test('SIGKILL (self-sent) at every crash point, then resume: complete log, no temp files, identical weights', async () => {
  // The children run concurrently (they are independent runs); the checks run in order.
  const dirs = KILLS.map(([point, epoch]) => join(root, `self-${point}-${epoch}`));
  const results: Array<{ signal: NodeJS.Signals | null; stderr: string }> = [];
  for (let i = 0; i < KILLS.length; i += 4) {
    results.push(...(await Promise.all(KILLS.slice(i, i + 4).map(([point, epoch], j) => runChild(dirs[i + j], point, epoch, 'self')))));
  }
  for (const [k, [point, epoch]] of KILLS.entries()) {
    const label = `${point}@${epoch}`;
    assert.is(results[k].signal, 'SIGKILL', `${label}: the child should die at the point: ${results[k].stderr}`);
    // Killed between a temp write and its rename: the temp file is there for the resume to remove.
    if (/-temp$|^epoch-files$/.test(point)) assert.ok(allNames(dirs[k]).some((f) => f.includes('.tmp')), `${label}: expected a temp file`);
    assertLogNotBehind(dirs[k], label);
    await resumeAndCompare(dirs[k], label);
  }
});

test('the parent kill -9s children held mid-write of the log and during old-epoch cleanup', async () => {
  const kills = [['log-temp', 3], ['cleanup', 2]] as const;
  const dirs = kills.map(([point, epoch]) => join(root, `wait-${point}-${epoch}`));
  const results = await Promise.all(kills.map(([point, epoch], k) => runChild(dirs[k], point, epoch, 'wait')));
  for (const [k, [point, epoch]] of kills.entries()) {
    const label = `${point}@${epoch}`;
    assert.is(results[k].signal, 'SIGKILL', `${label}: the child should be killed at the point: ${results[k].stderr}`);
    if (point === 'log-temp') assert.ok(allNames(dirs[k]).some((f) => f.includes('.tmp')), `${label}: expected the log's temp file`);
    assertLogNotBehind(dirs[k], label);
    await resumeAndCompare(dirs[k], label);
  }
});

test.run();
