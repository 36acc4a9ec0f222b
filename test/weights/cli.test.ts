// `medianomaly weights ...` as users run it (a child process), fetch from 127.0.0.1 only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backbones } from '../../src/models/backbones/index.js';
import { BIN, cli, tempDir, type CliResult } from '../cli/helpers.js';
import { writePth, type TensorSpec } from './pth-writer.js';

const FIX = new URL('../fixtures/weights/', import.meta.url).pathname;
const dir = tempDir('medianomaly-weights-cli-');
const cache = join(dir, 'cache');
const env = { MEDIANOMALY_WEIGHTS: cache };

/** Runs the CLI without blocking this process's event loop (the test's HTTP server must answer). */
function cliAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, FORCE_COLOR: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A zero-valued, torchvision-shaped resnet18 checkpoint (float32, fc included). */
function resnet18Zeros(): Uint8Array {
  const tensors: [string, TensorSpec][] = backbones.expectedState('resnet18').map((e) => {
    const n = e.shape.reduce((a, b) => a * b, 1);
    return [e.name, e.dtype === 'int64' ? { dtype: 'I64', shape: e.shape, bytes: new Uint8Array(8) } : { shape: e.shape, bytes: new Uint8Array(4 * n) }];
  });
  tensors.push(['fc.weight', { shape: [1000, 512], bytes: new Uint8Array(1000 * 512 * 4) }], ['fc.bias', { shape: [1000], bytes: new Uint8Array(4000) }]);
  return writePth(tensors);
}

test('weights check: exit code 1 and the offending tensors for the partial file; a hostile file is refused by name', () => {
  const r = cli(['weights', 'check', join(FIX, 'resnet18-partial.pth'), '--arch', 'resnet18'], dir, env);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stdout, /wrong shape \(1\):\n\s+conv1\.weight: \[4, 3, 3, 3\], resnet18 has \[64, 3, 7, 7\]/);
  assert.match(r.stdout, /not in resnet18 \(1\): head\.weight/);
  assert.match(r.stdout, /converted F16 → F32: 1 tensor/);
  const evil = cli(['weights', 'check', join(FIX, 'evil.pth'), '--arch', 'resnet18'], dir, env);
  assert.is(evil.code, 1);
  assert.match(evil.stderr, /posix\.system/);
  assert.match(evil.stderr, /not executed/);
});

test('weights import, check of the result, fetch from 127.0.0.1, fetch again (cached), list', async () => {
  const body = resnet18Zeros();
  const pth = join(dir, 'r18.pth');
  writeFileSync(pth, body);
  const imp = cli(['weights', 'import', pth, '--arch', 'resnet18'], dir, env);
  assert.is(imp.code, 0, imp.stderr);
  assert.ok(existsSync(join(dir, 'r18.safetensors')));
  assert.match(imp.stdout, /classifier, ignored \(2\): fc\.weight, fc\.bias/);
  assert.match(imp.stdout, /wrote .*r18\.safetensors/);
  const chk = cli(['weights', 'check', join(dir, 'r18.safetensors'), '--arch', 'resnet18'], dir, env);
  assert.is(chk.code, 0, chk.stdout + chk.stderr);
  assert.match(chk.stdout, /OK: fits torchvision's resnet18/);

  const sha = createHash('sha256').update(body).digest('hex');
  const name = `resnet18-${sha.slice(0, 8)}.pth`;
  const server = createServer((req, res) => {
    if (req.url === `/m/${name}`) res.writeHead(200, { 'content-length': String(body.length) }).end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const f = await cliAsync(['weights', 'fetch', 'resnet18', '--url', `${base}/m/${name}`]);
    assert.is(f.code, 0, f.stderr);
    assert.match(f.stdout, new RegExp(`SHA-256 ${sha} verified`));
    assert.match(f.stdout, /cached .*resnet18\.safetensors/);
    assert.match(f.stderr, /100%/);
    const again = await cliAsync(['weights', 'fetch', 'resnet18', '--url', `${base}/m/${name}`]);
    assert.is(again.code, 0);
    assert.match(again.stdout, /already cached/);
    const missing = await cliAsync(['weights', 'fetch', 'vgg19', '--url', `${base}/m/`]);
    assert.is(missing.code, 1);
    assert.match(missing.stderr, /HTTP 404/);
    assert.match(missing.stderr, /vgg19-dcbb9e9d\.pth/);
  } finally {
    await new Promise((ok) => server.close(ok));
  }
  const list = cli(['weights', 'list', '--json'], dir, env);
  assert.is(list.code, 0);
  const rows = JSON.parse(list.stdout).weights;
  assert.is(rows[0].arch, 'resnet18');
  assert.is(rows[0].cached, true);
  assert.is(rows[0].sha256, createHash('sha256').update(readFileSync(join(cache, 'resnet18.safetensors'))).digest('hex'));
  assert.is(rows[2].cached, false);
});

test.run();
