// Ctrl-C for long commands: the first SIGINT asks the running work to stop at the next
// optimiser step (finished runs and the last checkpoint stay on disk); a second one quits
// at once.
import { type InvocationContext, commandLine, thisInvocation } from './invocation.js';

export interface Interrupt {
  signal: AbortSignal;
  dispose(): void;
}

export function onInterrupt(message = 'stopping after the current step; press Ctrl-C again to quit at once'): Interrupt {
  const controller = new AbortController();
  const handler = () => {
    if (controller.signal.aborted) {
      process.stderr.write('\nmedianomaly: quit\n');
      process.exit(130);
    }
    process.stderr.write(`\nmedianomaly: ${message}\n`);
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/**
 * The command line to continue an interrupted command, as the user started it (npx, node
 * or an installed bin; see ./invocation.ts): the same arguments plus `extra` flags not
 * already there, shell-quoted.
 */
export function resumeCommand(args: readonly string[], extra: Record<string, string | true>, ctx: InvocationContext = thisInvocation()): string {
  const out = [...args];
  for (const [flag, value] of Object.entries(extra)) {
    if (out.includes(`--${flag}`) || out.some((a) => a.startsWith(`--${flag}=`))) continue;
    out.push(`--${flag}`);
    if (value !== true) out.push(value);
  }
  return commandLine(ctx, out);
}
