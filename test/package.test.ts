// The package is ESM-only; CommonJS code loads it with `await import('medianomaly')` (README,
// "Library"). A .cjs consumer runs with plain node (no tsx), resolving the package by name:
// first against a stand-in package with this package.json's own type/exports fields (always,
// nothing built), then against the real dist/ when `npm run build` has made it (skipped
// otherwise: building takes longer than a test should).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const consumer = join(root, 'test', 'fixtures', 'cjs-consumer.cjs');

/** Runs a .cjs script with plain node; `medianomaly` resolves to the package the script lies in (self-reference). */
function runScript(script: string): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

test('package.json: ESM-only (type module, an import condition, no require condition)', () => {
  assert.is(pkg.type, 'module');
  assert.is(pkg.exports['.'].import, './dist/index.js');
  assert.is(pkg.exports['.'].types, './dist/index.d.ts');
  assert.not.ok('require' in pkg.exports['.'], 'a require condition would make the README wrong');
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  assert.match(readme, /ESM-only/);
  assert.match(readme, /await import\('medianomaly'\)/);
});

test("a .cjs file loads a package with these fields by await import(); require() is refused", () => {
  const dir = mkdtempSync(join(tmpdir(), 'medianomaly-esm-'));
  try {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: pkg.name, type: pkg.type, exports: pkg.exports }));
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist', 'index.js'), 'export function createMethod() {}\n');
    cpSync(consumer, join(dir, 'use.cjs'));
    const r = runScript(join(dir, 'use.cjs'));
    assert.is(r.code, 0, r.out);
    assert.match(r.out, /require: ERR_(PACKAGE_PATH_NOT_EXPORTED|REQUIRE_ESM)/);
    assert.match(r.out, /import: createMethod/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const built = existsSync(join(root, 'dist', 'index.js'));
(built ? test : test.skip)('the built dist/ loads from a .cjs file by await import() (after npm run build)', () => {
  const r = runScript(consumer); // the fixture lies inside this package
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /import: createMethod/);
});

test.run();
