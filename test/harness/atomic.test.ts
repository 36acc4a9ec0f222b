// Atomic writes are verified (issue 7, "checkpoints cannot be cut"): a write the OS cuts
// short (here a file-size limit, `ulimit -f`, as a full disk would) must throw an error
// naming the file and the cause, and leave nothing under the real name and no temp file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AtomicWriteError, writeFileAtomic, writeFileAtomicSync, writeJsonAtomic } from '../../src/io/atomic.js';
import { tempDir } from './helpers.js';

const root = new URL('../..', import.meta.url).pathname;
const dir = tempDir('medianomaly-atomic-');

/** Names in `folder` other than `keep`: temp files left behind would show here. */
function leftovers(folder: string, keep: string[] = []): string[] {
  return readdirSync(folder).filter((n) => !keep.includes(n));
}

test('writes, replaces, leaves only the target; the async form creates the folder', async () => {
  const path = join(dir, 'a.txt');
  writeFileAtomicSync(path, 'one');
  writeFileAtomicSync(path, new Uint8Array([0x74, 0x77, 0x6f]));
  assert.is(readFileSync(path, 'utf8'), 'two');
  writeFileAtomicSync(join(dir, 'empty.bin'), new Uint8Array(0));
  assert.is(readFileSync(join(dir, 'empty.bin')).length, 0);
  await writeJsonAtomic(join(dir, 'sub', 'deeper', 'b.json'), { x: 1 });
  assert.equal(JSON.parse(readFileSync(join(dir, 'sub', 'deeper', 'b.json'), 'utf8')), { x: 1 });
  assert.equal(leftovers(dir).sort(), ['a.txt', 'empty.bin', 'sub']);
});

test('a failure names the file and the cause and leaves no temp file', () => {
  const path = join(dir, 'missing-folder', 'c.txt');
  try {
    writeFileAtomicSync(path, 'x');
    assert.unreachable('expected an error');
  } catch (e) {
    assert.instance(e, AtomicWriteError);
    assert.is((e as AtomicWriteError).code, 'ENOENT');
    assert.match((e as Error).message, /missing-folder\/c\.txt/);
    assert.match((e as Error).message, /folder does not exist/);
  }
});

test('beforeRename runs with the temp file complete; a throw there keeps the old file', () => {
  const path = join(dir, 'd.txt');
  writeFileAtomicSync(path, 'old');
  let sawTemp: string[] = [];
  try {
    writeFileAtomicSync(path, 'new', {
      beforeRename: () => {
        sawTemp = leftovers(dir).filter((n) => n.startsWith('.d.txt.'));
        throw new Error('crash point');
      },
    });
    assert.unreachable('expected an error');
  } catch (e) {
    assert.match((e as Error).message, /d\.txt: crash point/);
  }
  assert.is(sawTemp.length, 1);
  assert.is(readFileSync(path, 'utf8'), 'old');
  assert.equal(leftovers(dir).filter((n) => n.includes('d.txt')), ['d.txt']);
});

// ---- under a file-size limit: a child process, since the limit is per process ----

const CHILD = join(tempDir('medianomaly-atomic-child-'), 'child.mts');
writeFileSync(
  CHILD,
  `import { writeFileAtomicSync, writeFileAtomic } from ${JSON.stringify(pathToFileURL(join(root, 'src/io/atomic.ts')).href)};
import { writeSafetensors } from ${JSON.stringify(pathToFileURL(join(root, 'src/nn/safetensors-format.ts')).href)};
const [kind, target, size] = process.argv.slice(2);
const n = Number(size);
try {
  if (kind === 'safetensors') writeSafetensors(target, [['w', { dtype: 'F32', shape: [n / 4], data: new Float32Array(n / 4).fill(1) }]]);
  else if (kind === 'sync') writeFileAtomicSync(target, new Uint8Array(n).fill(7));
  else await writeFileAtomic(target, new Uint8Array(n).fill(7));
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, name: e.name, code: e.code, message: e.message }));
}
`,
);

/**
 * Runs the child with a 16 KiB file-size limit. The shell ignores SIGXFSZ before exec so
 * that an over-limit write returns EFBIG instead of killing the process (Node ignores it
 * too; the trap makes the test not depend on that).
 */
function writeUnderLimit(kind: string, target: string, bytes: number): { ok: boolean; name?: string; code?: string; message?: string } {
  const r = spawnSync('bash', ['-c', `trap '' XFSZ; ulimit -f 16; exec "$0" --import tsx "$@"`, process.execPath, CHILD, kind, target, String(bytes)], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.is(r.status, 0, `child exited ${r.status} (signal ${r.signal}): ${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(line);
}

for (const kind of ['safetensors', 'sync', 'async']) {
  test(`${kind}: a write cut by \`ulimit -f\` throws EFBIG naming the file; no file, no temp file`, () => {
    const sub = join(dir, `limit-${kind}`);
    const target = join(sub, 'optimizer-main.safetensors');
    // The folder must exist for the sync writers; the async one would create it.
    writeUnderLimit('async', join(sub, 'small.bin'), 1024);
    const res = writeUnderLimit(kind, target, 64 * 1024);
    assert.is(res.ok, false, 'the cut write must fail');
    assert.is(res.name, 'AtomicWriteError');
    assert.is(res.code, 'EFBIG');
    assert.match(res.message!, /optimizer-main\.safetensors/);
    assert.match(res.message!, /EFBIG/);
    assert.match(res.message!, /ulimit -f/);
    assert.ok(!existsSync(target), 'nothing under the real name');
    assert.equal(leftovers(sub), ['small.bin'], 'no temp file left');
    assert.is(readFileSync(join(sub, 'small.bin')).length, 1024, 'a write within the limit succeeds');
  });
}

test('a cut write keeps the previous file intact', () => {
  const sub = join(dir, 'limit-replace');
  const target = join(sub, 'model.safetensors');
  mkdirSync(sub);
  writeUnderLimit('safetensors', target, 4096);
  const before = readFileSync(target);
  assert.is(writeUnderLimit('safetensors', target, 64 * 1024).ok, false);
  assert.equal(readFileSync(target), before);
  assert.equal(leftovers(sub), ['model.safetensors']);
});

test.run();
