import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { tsBackend, tsKernels } from '../../src/backend/ts/index.js';

// tsx does not type-check, so the "implements every kernel" promise is checked at run
// time too, against the names the contract declares.
test('tsKernels implements every kernel declared in KernelTable', () => {
  const src = readFileSync(new URL('../../src/backend/types.ts', import.meta.url), 'utf8');
  const body = src.slice(src.indexOf('export interface KernelTable {'));
  const decl = body.slice(0, body.indexOf('\n}\n'));
  const names = [...decl.matchAll(/^\s{2}(\w+)\(/gm)].map((m) => m[1]);
  assert.ok(names.length >= 38, `parsed ${names.length} kernel names from types.ts`);
  const table = tsKernels as unknown as Record<string, unknown>;
  const missing = names.filter((n) => typeof table[n] !== 'function');
  assert.equal(missing, [], 'kernels missing from the ts backend');
});

test('tsBackend is always available and exposes the table', () => {
  assert.is(tsBackend.name, 'ts');
  assert.is(tsBackend.unavailableReason(), null);
  assert.is(tsBackend.kernels, tsKernels);
});

test.run();
