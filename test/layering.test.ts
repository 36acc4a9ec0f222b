// The house rules of docs/architecture.md that imports can break: src/backend is private to
// the engine (everything else reaches kernels through engine ops), and the layers below
// methods/ know nothing of datasets or metrics.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every (file, imported folder under src/) pair, for relative imports. */
function imports(): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  for (const f of files(src)) {
    for (const m of readFileSync(f, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      out.push({ from: relative(src, f), to: relative(src, resolve(dirname(f), m[1])) });
    }
  }
  return out;
}

const top = (p: string) => p.split('/')[0];

test('src/backend is imported only by src/engine (and itself)', () => {
  const bad = imports().filter((i) => top(i.to) === 'backend' && !['engine', 'backend'].includes(top(i.from)));
  assert.equal(bad.map((i) => `${i.from} → ${i.to}`), []);
});

test('engine, backend, nn, models and io import nothing from data, metrics, methods, harness, cli or queue', () => {
  const low = new Set(['engine', 'backend', 'nn', 'models', 'io']);
  const high = new Set(['data', 'metrics', 'methods', 'harness', 'cli', 'queue']);
  const bad = imports().filter((i) => low.has(top(i.from)) && high.has(top(i.to)));
  assert.equal(bad.map((i) => `${i.from} → ${i.to}`), []);
});

test.run();
