// The addon exports every kernel of the table under its table name, and nothing else but
// its controls: a kernel the loader expects and the addon lacks would silently run on the
// ts fallback (reported once, but slow), and an export the table does not name is dead code.
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { KERNEL_NAMES } from '../../src/backend/types.js';
import { nativeAddonPath } from '../../src/backend/native.js';
import { nativeSuite } from './helpers.js';

const { it, run } = nativeSuite('native exports');
const CONTROLS = ['setThreads', 'getThreads', 'setBlas', 'getBlas', 'info'];

it('every kernel of KERNEL_NAMES is an exported function; every export is a kernel or a control', () => {
  const addon = createRequire(import.meta.url)(nativeAddonPath) as Record<string, unknown>;
  const missing = KERNEL_NAMES.filter((k) => typeof addon[k] !== 'function');
  assert.equal(missing, [], 'kernels the addon does not export');
  const known = new Set<string>([...KERNEL_NAMES, ...CONTROLS]);
  const extra = Object.keys(addon).filter((k) => !known.has(k));
  assert.equal(extra, [], 'exports that are neither a kernel nor a control');
});

run();
