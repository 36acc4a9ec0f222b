// The method registry: list the methods, build one by name from options, or rebuild a
// saved one from its folder. Definitions come from ./catalogue.ts; ./builtin.ts imports
// the built-in method files (adding a method there is one import line).
import './builtin.js';
import { definition, definitions, registerMethod } from './catalogue.js';
import { resolveOptions } from './training/options.js';
import { readConfig } from './training/saved.js';
import type { Method, MethodDefinition, MethodInfo } from './types.js';
import type { MethodName, MethodOptionsMap } from './options-map.js';

export { registerMethod };

function lookup(name: string): MethodDefinition {
  if (typeof name !== 'string') throw new TypeError(`createMethod: name must be a string, got ${JSON.stringify(name)}`);
  const def = definition(name);
  if (!def) throw new Error(`unknown method "${name}"; known methods: ${definitions().map((d) => d.info.name).join(', ')}`);
  return def;
}

export const methods = {
  /** Every registered method, in registration order. */
  list(): MethodInfo[] {
    return definitions().map((d) => d.info);
  },
  /** One method's description; unknown names throw, listing the known ones. */
  info(name: string): MethodInfo {
    return lookup(name).info;
  },
  names(): string[] {
    return definitions().map((d) => d.info.name);
  },
};

/**
 * Builds an untrained method. Options are checked against the method's specs: an unknown
 * name, a wrong type or a value out of range throws an error naming the option.
 *
 * Typed: a literal name must be a built-in method (MethodOptionsMap) and its options are
 * checked against that method's, so a misspelt name or option fails to compile. A name
 * held in a `string` (CLI arguments, config files, methods registered at run time) takes
 * the second signature and is checked at run time only.
 */
export function createMethod<N extends MethodName>(name: N, options?: MethodOptionsMap[N]): Method;
export function createMethod<S extends string>(name: string extends S ? S : never, options?: Record<string, unknown>): Method;
export function createMethod(name: string, options: Record<string, unknown> = {}): Method {
  const def = lookup(name);
  return def.create(resolveOptions(def.info, options));
}

/** Rebuilds a method saved with `method.save(dir)`: config.json gives name and options, then its weights load. */
export async function loadMethod(dir: string): Promise<Method> {
  const cfg = readConfig(dir);
  if (!definition(cfg.method)) {
    throw new Error(`${dir}: saved method "${cfg.method}" is not registered here; known methods: ${methods.names().join(', ')}`);
  }
  const m = createMethod(cfg.method, cfg.options);
  await m.load(dir);
  return m;
}
