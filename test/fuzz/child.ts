// One fuzz worker process: `node --import tsx test/fuzz/child.ts <ops|addon> <seed> <start> <count>`.
// Prints "B <i>" before each case (so the parent can name the case that killed it),
// "M <json>" for each disagreement, and one final "S <json>" with the tallies.
import { createRequire } from 'node:module';
import { nativeAddonPath } from '../../src/backend/native.js';
import { setBackend, type Tensor } from '../../src/engine/index.js';
import { addonCase } from './addon.js';
import { opCase } from './ops.js';

const [kind, seedArg, startArg, countArg] = process.argv.slice(2);
const seed = Number(seedArg);
const start = Number(startArg);
const count = Number(countArg);
const out = (line: string) => process.stdout.write(line + '\n');

type Outcome = { threw: false; values: Float32Array[]; shapes: number[][] } | { threw: true; cls: string; message: string };

function attempt(fn: () => Tensor[]): Outcome {
  try {
    const ts = fn();
    return { threw: false, values: ts.map((t) => t.data.slice()), shapes: ts.map((t) => t.shape.slice()) };
  } catch (e) {
    const err = e as Error;
    return { threw: true, cls: err?.constructor?.name ?? typeof e, message: String(err?.message ?? e) };
  }
}

/** Relative to the magnitude of the reference; NaN must meet NaN and ±∞ the same ∞. */
function disagreement(a: Float32Array, b: Float32Array): string | null {
  if (a.length !== b.length) return `lengths ${a.length} vs ${b.length}`;
  let scale = 1;
  for (let i = 0; i < b.length; i++) if (Number.isFinite(b[i])) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (Number.isNaN(x) || Number.isNaN(y) || !Number.isFinite(x) || !Number.isFinite(y)) {
      if (!(Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)) || (x === y))) return `[${i}] ts ${y} vs cpu ${x}`;
    } else if (Math.abs(x - y) > 1e-3 * scale) return `[${i}] ts ${y} vs cpu ${x}`;
  }
  return null;
}

const tally = { cases: 0, bothThrew: 0, bothComputed: 0, mismatches: 0, returned: 0, threw: 0 };
const keep = new Set<string>();

if (kind === 'ops') {
  for (let i = start; i < start + count; i++) {
    out(`B ${i}`);
    tally.cases++;
    setBackend('ts');
    const name = opCase.name_(seed, i);
    // Building the case is part of the attempt: Tensor.fromData may rightly refuse it.
    const ref = attempt(() => opCase(seed, i).call());
    setBackend('cpu');
    const got = attempt(() => opCase(seed, i).call());
    let why: string | null = null;
    if (ref.threw && !got.threw) why = `ts threw ${ref.cls}: ${ref.message}; cpu computed`;
    else if (!ref.threw && got.threw) why = `cpu threw ${got.cls}: ${got.message}; ts computed`;
    else if (ref.threw && got.threw) {
      if (ref.cls !== got.cls || ref.message !== got.message) why = `ts ${ref.cls}: ${ref.message} | cpu ${got.cls}: ${got.message}`;
      else tally.bothThrew++;
      keep.add(`${name}: ${ref.cls}: ${ref.message.split(',')[0].slice(0, 90)}`);
    } else if (!ref.threw && !got.threw) {
      for (let k = 0; k < ref.values.length && !why; k++) {
        if (ref.shapes[k].join() !== got.shapes[k].join()) why = `output ${k} shape ${ref.shapes[k]} vs ${got.shapes[k]}`;
        else why = disagreement(got.values[k], ref.values[k]);
        if (why) why = `output ${k}: ${why}`;
      }
      if (!why) tally.bothComputed++;
    }
    if (why) {
      tally.mismatches++;
      out(`M ${JSON.stringify({ seed, index: i, op: name, why })}`);
    }
  }
} else if (kind === 'addon') {
  const addon = createRequire(import.meta.url)(nativeAddonPath) as Record<string, (...a: unknown[]) => unknown>;
  for (let i = start; i < start + count; i++) {
    out(`B ${i}`);
    tally.cases++;
    const { name, args } = addonCase(seed, i);
    try {
      addon[name](...args);
      tally.returned++;
    } catch (e) {
      // Only JS errors are acceptable; the message must say which kernel refused.
      if (!(e instanceof Error) || !/medianomaly cpu /.test(e.message)) {
        tally.mismatches++;
        out(`M ${JSON.stringify({ seed, index: i, op: name, why: `threw something unexpected: ${String(e)}` })}`);
      } else tally.threw++;
    }
  }
} else {
  throw new Error(`child: unknown kind ${kind}`);
}
out(`S ${JSON.stringify({ ...tally, errors: [...keep].slice(0, 40) })}`);
