// Method options on the command line: the common ones have their own flags (--epochs,
// --batch-size, --seed, --size, --weights); any other goes through --opt name=value
// (repeatable), checked against the method's option specs by createMethod.
import type { Argv } from 'yargs';
import { methods } from '../methods/registry.js';

export interface MethodArgs {
  epochs?: number;
  batchSize?: number;
  size?: number;
  weights?: string;
  opt?: string[];
}

export function methodOptions<T>(y: Argv<T>): Argv<T & MethodArgs> {
  return y
    .option('epochs', { type: 'number', describe: "training epochs (default: the reference's, 250; 600 on brain-tumor)" })
    .option('batch-size', { type: 'number', describe: "training batch size (default: the method's, 64 for the AE family)" })
    .option('size', { type: 'number', describe: "input side in pixels (default: the method's, 64)" })
    .option('weights', {
      type: 'string',
      describe: "ImageNet backbone weights of the methods that have a backbone: a .safetensors file (medianomaly weights import), 'random' (tests only), or by default the cached torchvision file (medianomaly weights fetch ARCH)",
    })
    .option('opt', { type: 'string', array: true, describe: 'any other method option, as name=value (repeatable; see: medianomaly methods --json)' }) as Argv<T & MethodArgs>;
}

/** The registered name of a method name or alias (`rd++` → `rdpp`); throws for an unknown one, listing the registered ones. */
export function checkMethodName(name: string): string {
  const known = methods.names();
  if (known.includes(name)) return name;
  const byAlias = methods.list().find((m) => m.aliases?.includes(name));
  if (byAlias) return byAlias.name;
  throw new Error(`unknown method "${name}"; known methods: ${known.join(', ')} (see: medianomaly methods)`);
}

function parseValue(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

/** True when every method of `names` (all registered ones when absent) that has option `name` declares it a string. */
function isStringOption(name: string, names?: readonly string[]): boolean {
  const specs = (names ?? methods.names()).flatMap((m) => methods.info(m).options.filter((o) => o.name === name));
  return specs.length > 0 && specs.every((o) => o.type === 'string');
}

/**
 * The method options the flags set (only those given). A value is read as a number or a
 * boolean unless the option is a string option of the methods named (e.g. a list option
 * `--opt attentionResolutions=16` stays the text "16").
 */
export function methodOptionValues(a: MethodArgs, methodNames?: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of a.opt ?? []) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new Error(`--opt expects name=value (e.g. --opt latent=32), got "${o}"`);
    const name = o.slice(0, eq).trim();
    const text = o.slice(eq + 1).trim();
    out[name] = isStringOption(name, methodNames) ? text : parseValue(text);
  }
  if (a.epochs !== undefined) out.epochs = a.epochs;
  if (a.batchSize !== undefined) out.batchSize = a.batchSize;
  if (a.size !== undefined) out.size = a.size;
  if (a.weights !== undefined) out.weights = a.weights;
  return out;
}

/** The methods of `names` that take backbone weights; --weights given to others is an error naming them. */
export function checkWeightsFlag(a: MethodArgs, names: readonly string[]): void {
  if (a.weights === undefined) return;
  const without = names.filter((n) => !methods.info(n).options.some((o) => o.name === 'weights'));
  if (without.length === names.length) {
    const withBackbone = methods.list().filter((m) => m.options.some((o) => o.name === 'weights')).map((m) => m.name);
    throw new Error(`--weights applies to methods with an ImageNet backbone (${withBackbone.join(', ')}); ${without.join(', ')} has none`);
  }
}
