// Option specs and their validation: every method declares its options once (name, type,
// default, range), and `resolveOptions` turns what a caller passed into a complete, checked
// set. The same specs feed `medianomaly methods` and the saved config.json.
import type { MethodInfo, MethodOptions, OptionSpec } from '../types.js';

type Value = number | boolean | string | null;

// The helpers keep each option's name, type, nullability and choices in its TypeScript type,
// so `OptionsOf` derives a method's options type from the very list that validates them at
// run time (../options-map.ts): the two cannot drift apart.

/** An option spec that carries its name `N` and value type in its type. */
export type TypedSpec<N extends string, T extends OptionSpec['type'], D> = OptionSpec & { name: N; type: T; default: D };

export function numberOption<const N extends string>(name: N, def: number, description: string, range?: { min?: number; max?: number }): TypedSpec<N, 'number', number>;
export function numberOption<const N extends string>(name: N, def: number | null, description: string, range?: { min?: number; max?: number }): TypedSpec<N, 'number', number | null>;
export function numberOption(name: string, def: number | null, description: string, range: { min?: number; max?: number } = {}): OptionSpec {
  return { name, type: 'number', default: def, description, ...range };
}

export function integerOption<const N extends string>(name: N, def: number, description: string, range?: { min?: number; max?: number }): TypedSpec<N, 'integer', number>;
export function integerOption<const N extends string>(name: N, def: number | null, description: string, range?: { min?: number; max?: number }): TypedSpec<N, 'integer', number | null>;
export function integerOption(name: string, def: number | null, description: string, range: { min?: number; max?: number } = {}): OptionSpec {
  return { name, type: 'integer', default: def, description, ...range };
}

export function booleanOption<const N extends string>(name: N, def: boolean, description: string): TypedSpec<N, 'boolean', boolean> {
  return { name, type: 'boolean', default: def, description };
}

export function stringOption<const N extends string, const C extends string>(name: N, def: NoInfer<C>, description: string, choices: readonly C[]): TypedSpec<N, 'string', C> & { choices: readonly C[] };
export function stringOption<const N extends string>(name: N, def: string, description: string): TypedSpec<N, 'string', string>;
export function stringOption(name: string, def: string, description: string, choices?: readonly string[]): OptionSpec {
  return choices ? { name, type: 'string', default: def, description, choices } : { name, type: 'string', default: def, description };
}

/** The value a caller may pass for one spec: its type, a choice of a string option, null where the default is null. */
export type OptionValue<S extends OptionSpec> =
  | (S['type'] extends 'number' | 'integer' ? number : S['type'] extends 'boolean' ? boolean : S extends { choices: readonly (infer C)[] } ? C : string)
  | (null extends S['default'] ? null : never);

/**
 * The options object `createMethod` takes for a method whose specs are the union `S`: every
 * option optional (defaults fill in), each with its value type. A plain `OptionSpec` in `S`
 * would widen this to any name, so method files declare options with the helpers above.
 */
export type OptionsOf<S extends OptionSpec> = { [K in S as K['name']]?: OptionValue<K> };

/** Replaces the default of an option in a list (e.g. a method that trains with a different batch size). */
export function withDefaults<S extends OptionSpec>(specs: readonly S[], defaults: Record<string, Value>): S[] {
  const names = new Set(specs.map((s) => s.name));
  for (const k of Object.keys(defaults)) if (!names.has(k)) throw new Error(`withDefaults: no option named "${k}"`);
  return specs.map((s) => (s.name in defaults ? { ...s, default: defaults[s.name] } : s));
}

function describeRange(s: OptionSpec): string {
  if (s.min !== undefined && s.max !== undefined) return ` in [${s.min}, ${s.max}]`;
  if (s.min !== undefined) return ` ≥ ${s.min}`;
  if (s.max !== undefined) return ` ≤ ${s.max}`;
  return '';
}

/** Checks one value against its spec; throws an error naming the method, the option and what is allowed. */
export function checkOptionValue(method: string, s: OptionSpec, v: unknown): Value {
  const where = `${method}: option "${s.name}"`;
  if (v === null) {
    if (s.default === null) return null;
    throw new TypeError(`${where} cannot be null (${s.description})`);
  }
  switch (s.type) {
    case 'number':
    case 'integer': {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${where} must be a finite number, got ${JSON.stringify(v)}`);
      if (s.type === 'integer' && !Number.isInteger(v)) throw new TypeError(`${where} must be an integer, got ${v}`);
      if ((s.min !== undefined && v < s.min) || (s.max !== undefined && v > s.max)) {
        throw new RangeError(`${where} must be${describeRange(s)}, got ${v}`);
      }
      return v;
    }
    case 'boolean':
      if (typeof v !== 'boolean') throw new TypeError(`${where} must be true or false, got ${JSON.stringify(v)}`);
      return v;
    case 'string':
      if (typeof v !== 'string') throw new TypeError(`${where} must be a string, got ${JSON.stringify(v)}`);
      if (s.choices && !s.choices.includes(v)) throw new RangeError(`${where} must be one of ${s.choices.join(', ')}; got "${v}"`);
      return v;
  }
}

/**
 * Fills in defaults and validates. An unknown option is an error that lists the valid ones;
 * an undefined value counts as absent.
 */
export function resolveOptions(info: MethodInfo, given: Record<string, unknown> = {}): MethodOptions {
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw new TypeError(`${info.name}: options must be an object of name → value, got ${JSON.stringify(given)}`);
  }
  const specs = new Map(info.options.map((s) => [s.name, s]));
  const unknown = Object.keys(given).filter((k) => !specs.has(k) && given[k] !== undefined);
  if (unknown.length) {
    throw new Error(
      `${info.name}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; ` +
        `valid options: ${[...specs.keys()].join(', ')}`,
    );
  }
  const out: MethodOptions = {};
  for (const s of info.options) {
    const v = given[s.name];
    out[s.name] = v === undefined ? s.default : checkOptionValue(info.name, s, v);
  }
  return out;
}
