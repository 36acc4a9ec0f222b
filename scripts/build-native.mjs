#!/usr/bin/env node
// Builds the native `cpu` backend (build/Release/medianomaly.node) with node-gyp.
//
//   node scripts/build-native.mjs            (npm install) a failed build prints one
//                                             warning and exits 0: the library then runs
//                                             on the pure TypeScript backend
//   node scripts/build-native.mjs --strict   (npm run build:native) a failed build exits 1
//   options: -j N (parallel compile jobs), --verbose (show the compiler output)
//   env: MEDIANOMALY_SIMD=avx2|generic overrides the CPU check,
//        MEDIANOMALY_NO_OPENBLAS=1 builds without OpenBLAS.
import { spawnSync, execSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const argv = process.argv.slice(2);
const strict = argv.includes('--strict');
const verbose = argv.includes('--verbose');
const jIndex = argv.indexOf('-j');
const jobs = jIndex >= 0 && argv[jIndex + 1] ? argv[jIndex + 1] : String(Math.max(1, Math.min(cpus().length, 8)));

function fail(reason, log = '') {
  if (strict) {
    if (log) process.stderr.write(log.split('\n').slice(-60).join('\n') + '\n');
    console.error(`medianomaly: native build failed: ${reason}`);
    process.exit(1);
  }
  console.warn(
    `medianomaly: warning: the native cpu backend was not built (${reason}); ` +
      'the library will use the slower TypeScript backend. Run `npm run build:native` to see the full error.',
  );
  process.exit(0);
}

// node-gyp needs Node's headers. This machine's npm config may point nodedir at the
// installation prefix; otherwise use the prefix of the running node.
function nodeDir() {
  const candidates = [];
  try {
    const v = execSync('npm config get nodedir', { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    if (v && v !== 'undefined' && v !== 'null') candidates.push(v);
  } catch {
    // npm not on PATH: fall through to the node prefix
  }
  candidates.push(dirname(dirname(process.execPath)));
  return candidates.find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')));
}

// AVX2 + FMA (x86-64-v3) for the GEMM micro-kernel when this CPU has them.
function simdLevel() {
  const forced = process.env.MEDIANOMALY_SIMD;
  if (forced === 'avx2' || forced === 'generic') return forced;
  if (process.arch !== 'x64') return 'generic';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const flags = (info.match(/^flags\s*:(.*)$/m) ?? ['', ''])[1].split(/\s+/);
    return flags.includes('avx2') && flags.includes('fma') ? 'avx2' : 'generic';
  } catch {
    return 'generic'; // not Linux: safe baseline
  }
}

const require = createRequire(import.meta.url);
let gypBin;
try {
  gypBin = require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
} catch {
  fail('node-gyp is not installed in node_modules');
}
try {
  require.resolve('node-addon-api', { paths: [root] });
} catch {
  fail('node-addon-api is not installed in node_modules');
}

const nodedir = nodeDir();
const simd = simdLevel();
const args = [gypBin, 'rebuild', '-j', jobs];
if (nodedir) args.push(`--nodedir=${nodedir}`);
args.push('--', `-Dmedianomaly_simd=${simd}`);

const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
const log = `${result.stdout ?? ''}${result.stderr ?? ''}`;
if (verbose) process.stdout.write(log);
if (result.error) fail(`could not run node-gyp: ${result.error.message}`, log);
if (result.status !== 0) {
  // The compiler's own message is the useful one; gyp's summary only says make failed.
  const lines = log.split('\n');
  const firstError =
    lines.find((l) => /\berror:|fatal error/i.test(l)) ??
    lines.find((l) => /not found|No such file|gyp ERR! stack Error/i.test(l)) ??
    `node-gyp exited with status ${result.status}`;
  fail(firstError.trim(), log);
}

// A build that links but cannot load (missing shared library, wrong CPU) is a failure too.
const addon = join(root, 'build', 'Release', 'medianomaly.node');
const probe = spawnSync(
  process.execPath,
  ['-e', `const a=require(${JSON.stringify(addon)});process.stdout.write(JSON.stringify(a.info()))`],
  { encoding: 'utf8' },
);
if (probe.status !== 0) {
  fail(`the built addon does not load: ${(probe.stderr || '').trim().split('\n').find((l) => /Error/.test(l)) ?? 'unknown error'}`, probe.stderr);
}
const info = JSON.parse(probe.stdout);
console.log(
  `medianomaly: native cpu backend built (BLAS: ${info.openblasLinked ? 'OpenBLAS + built-in' : 'built-in'}, ` +
    `SIMD: ${info.simd}, threads: ${info.threads})`,
);
