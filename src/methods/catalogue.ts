// The table of method definitions. Each method file registers its definitions when it is
// imported (`registerMethod(def)`); ./builtin.ts imports every built-in method file, one
// line each. Kept apart from ./registry.ts so that method files can register without an
// import cycle.
import type { MethodDefinition } from './types.js';

const table = new Map<string, MethodDefinition>();
/** Other spellings users type (the paper's name where it is not kebab-case: `rd++`) → the registered name. */
const aliases = new Map<string, string>();

/** Adds a method; a second definition under the same name is an error. */
export function registerMethod(def: MethodDefinition): void {
  const name = def?.info?.name;
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    throw new Error(`registerMethod: info.name must be a lowercase kebab-case name, got ${JSON.stringify(name)}`);
  }
  if (table.has(name)) throw new Error(`registerMethod: a method named "${name}" is already registered`);
  const seen = new Set<string>();
  for (const o of def.info.options) {
    if (seen.has(o.name)) throw new Error(`registerMethod: ${name} declares option "${o.name}" twice`);
    seen.add(o.name);
  }
  for (const a of def.info.aliases ?? []) {
    if (typeof a !== 'string' || a === '' || /\s/.test(a)) throw new Error(`registerMethod: ${name} has an invalid alias ${JSON.stringify(a)}`);
    if (table.has(a) || aliases.has(a)) throw new Error(`registerMethod: alias "${a}" of ${name} is already a method name or alias`);
  }
  if (aliases.has(name)) throw new Error(`registerMethod: "${name}" is already an alias of ${aliases.get(name)}`);
  table.set(name, def);
  for (const a of def.info.aliases ?? []) aliases.set(a, name);
}

/** The definition registered under `name` or under the method an alias names. */
export function definition(name: string): MethodDefinition | undefined {
  return table.get(name) ?? table.get(aliases.get(name) ?? '');
}

export function definitions(): MethodDefinition[] {
  return [...table.values()];
}
