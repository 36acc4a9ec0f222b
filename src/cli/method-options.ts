// Method options on the command line: the common ones have their own flags (--epochs,
// --batch-size, --seed, --size); any other goes through --opt name=value (repeatable),
// checked against the method's option specs by createMethod.
import type { Argv } from 'yargs';
import { methods } from '../methods/registry.js';

export interface MethodArgs {
  epochs?: number;
  batchSize?: number;
  size?: number;
  opt?: string[];
}

export function methodOptions<T>(y: Argv<T>): Argv<T & MethodArgs> {
  return y
    .option('epochs', { type: 'number', describe: "training epochs (default: the reference's, 250; 600 on brain-tumor)" })
    .option('batch-size', { type: 'number', describe: "training batch size (default: the method's, 64 for the AE family)" })
    .option('size', { type: 'number', describe: "input side in pixels (default: the method's, 64)" })
    .option('opt', { type: 'string', array: true, describe: 'any other method option, as name=value (repeatable; see: medianomaly methods --json)' }) as Argv<T & MethodArgs>;
}

/** Throws for an unknown method name, listing the registered ones. */
export function checkMethodName(name: string): void {
  const known = methods.names();
  if (!known.includes(name)) throw new Error(`unknown method "${name}"; known methods: ${known.join(', ')} (see: medianomaly methods)`);
}

function parseValue(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

/** The method options the flags set (only those given). */
export function methodOptionValues(a: MethodArgs): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of a.opt ?? []) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new Error(`--opt expects name=value (e.g. --opt latent=32), got "${o}"`);
    out[o.slice(0, eq).trim()] = parseValue(o.slice(eq + 1).trim());
  }
  if (a.epochs !== undefined) out.epochs = a.epochs;
  if (a.batchSize !== undefined) out.batchSize = a.batchSize;
  if (a.size !== undefined) out.size = a.size;
  return out;
}
