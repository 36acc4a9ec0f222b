#!/usr/bin/env node
// Locates OpenBLAS (cblas.h + libopenblas) for binding.gyp and CMakeLists.txt.
//   --have     prints yes when found, else no
//   --include  prints the directory holding cblas.h (empty when not found)
//   --libdir   prints the directory holding libopenblas (empty when not found)
//   --json     prints everything, for humans
// MEDIANOMALY_NO_OPENBLAS=1 pretends it is absent; OPENBLAS_HOME adds a prefix to search.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

function find() {
  if (process.env.MEDIANOMALY_NO_OPENBLAS === '1') return null;
  const prefixes = [process.env.OPENBLAS_HOME, '/usr', '/usr/local', '/opt/OpenBLAS', '/opt/homebrew/opt/openblas', '/usr/local/opt/openblas'].filter(Boolean);
  const multiarch = ['x86_64-linux-gnu', 'aarch64-linux-gnu'];
  const includeDirs = [];
  const libDirs = [];
  for (const p of prefixes) {
    for (const m of multiarch) {
      // Debian/Ubuntu: the pthread flavour first (our pool sets its thread count).
      includeDirs.push(join(p, 'include', m, 'openblas-pthread'), join(p, 'include', m, 'openblas-openmp'));
      libDirs.push(join(p, 'lib', m, 'openblas-pthread'), join(p, 'lib', m));
    }
    includeDirs.push(join(p, 'include', 'openblas'), join(p, 'include'));
    libDirs.push(join(p, 'lib64'), join(p, 'lib'));
  }
  // cblas.h must come from OpenBLAS (openblas_config.h next to it), not the reference BLAS.
  const include = includeDirs.find((d) => existsSync(join(d, 'cblas.h')) && existsSync(join(d, 'openblas_config.h')));
  const libdir = libDirs.find((d) => ['libopenblas.so', 'libopenblas.dylib', 'libopenblas.a'].some((f) => existsSync(join(d, f))));
  if (!include || !libdir) return null;
  return { include, libdir };
}

const found = find();
const arg = process.argv[2] ?? '--json';
if (arg === '--have') console.log(found ? 'yes' : 'no');
else if (arg === '--include') console.log(found ? found.include : '');
else if (arg === '--libdir') console.log(found ? found.libdir : '');
else console.log(JSON.stringify(found ?? { found: false }));
