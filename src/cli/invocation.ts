// How the user started this command, so that a printed "resume with" line runs as pasted:
// `npx medianomaly …` after npx (a bare `medianomaly` is not on their PATH), `node
// bin/medianomaly.js …` after node, `medianomaly …` for an installed command on the PATH.
import { basename, delimiter, dirname, isAbsolute, relative } from 'node:path';

export interface InvocationContext {
  /** process.argv: [node, script, ...args]. */
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Node's own flags (process.execArgv), repeated for a `node script` invocation. */
  execArgv?: readonly string[];
}

const BIN = 'medianomaly';

/** A word for a POSIX shell: bare when safe, else single-quoted. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The words that start the command again (without its arguments), e.g. ["npx", "medianomaly"]. */
export function commandPrefix(ctx: InvocationContext): string[] {
  const { env } = ctx;
  // npm's exec (npx) and run-script set npm_lifecycle_script to the command line they ran:
  // when it starts with our bin (npx medianomaly, npx medianomaly@0.1, a package.json script
  // "medianomaly ..."), `npx <that word>` finds the same package again. A parent's
  // variables inherited by an unrelated `node bin/...` run do not start with our name.
  // npm 11's npx sets it to the command alone, shell-quoted ('medianomaly').
  const first = ((env.npm_lifecycle_script ?? '').trim().split(/\s+/)[0] ?? '').replace(/^(['"])(.*)\1$/, '$2');
  if (/^(@[^/\s]+\/)?medianomaly(@\S+)?$/.test(first) && (env.npm_command === 'exec' || env.npm_command === 'run-script' || env.npm_lifecycle_event === 'npx')) {
    return ['npx', first];
  }
  const script = ctx.argv[1] ?? '';
  // A command on the PATH (an installed bin or a link to it): its bare name.
  if (basename(script) === BIN && (env.PATH ?? '').split(delimiter).includes(dirname(script))) return [BIN];
  if (!script) return [BIN];
  const rel = relative(ctx.cwd, script);
  const shown = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : script;
  // A bin without .js is started by its #! line; a .js file needs node.
  if (basename(script) === BIN) return [shown.includes('/') ? shown : `./${shown}`];
  return ['node', ...(ctx.execArgv ?? []), shown];
}

/** The whole command line, shell-quoted: the prefix that started it and `args`. */
export function commandLine(ctx: InvocationContext, args: readonly string[]): string {
  return [...commandPrefix(ctx), ...args].map(shellQuote).join(' ');
}

/** The context of this process. */
export function thisInvocation(): InvocationContext {
  return { argv: process.argv, env: process.env, cwd: process.cwd(), execArgv: process.execArgv };
}
