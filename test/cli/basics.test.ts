// The CLI's listing commands: --version, backends, methods, datasets (text and --json).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { cli, tempDir } from './helpers.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

test('--version prints the package version', () => {
  const r = cli(['--version']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.trim(), pkg.version);
});

test('backends --json: the backend in use and each one with its availability', () => {
  const r = cli(['backends', '--json']);
  assert.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.ok(['ts', 'cpu', 'cuda'].includes(j.current));
  const ts = j.backends.find((b: { name: string }) => b.name === 'ts');
  assert.ok(ts && ts.available);
});

test('methods --json lists ae with family, pixel maps, default size and options', () => {
  const r = cli(['methods', '--json']);
  assert.is(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout) as Array<{ name: string; family: string; pixelMaps: boolean; defaultSize: number; options: Array<{ name: string; default: unknown }> }>;
  const ae = list.find((m) => m.name === 'ae')!;
  assert.ok(ae);
  assert.is(ae.family, 'image-reconstruction');
  assert.is(ae.pixelMaps, true);
  assert.is(ae.defaultSize, 64);
  assert.is(ae.options.find((o) => o.name === 'epochs')!.default, 250);
  const text = cli(['methods']);
  assert.match(text.stdout, /^name +title +family +pixel maps +default size$/m);
  assert.match(text.stdout, /^ae +AE \(ℓ2\) +image-reconstruction +yes +64$/m);
});

test('datasets --json: presence under --data-root and how to get the missing ones', () => {
  const root = tempDir();
  const r = cli(['datasets', '--json', '--data-root', root]);
  assert.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.is(j.root, root);
  const by = new Map<string, { present: boolean; howToGet: string; kind: string }>(j.datasets.map((d: { name: string }) => [d.name, d]));
  assert.is(by.get('synth-brain')!.present, true);
  assert.is(by.get('synth-cxr')!.present, true);
  assert.is(by.get('brats2021')!.present, false);
  assert.match(by.get('brats2021')!.howToGet, /zenodo/i);
  const text = cli(['datasets', '--data-root', root]);
  assert.match(text.stdout, /^brats2021 +reference +brain-mri +yes +no /m);
  assert.match(text.stdout, /How to get the missing ones:\n[\s\S]*brats2021: download/);
});

test.run();
