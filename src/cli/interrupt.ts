// Ctrl-C for long commands: the first SIGINT asks the running work to stop at the next
// optimiser step (finished runs and the last checkpoint stay on disk); a second one quits
// at once.

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

/** The command line to continue an interrupted command: the same arguments plus `extra` flags not already there. */
export function resumeCommand(argv: readonly string[], extra: Record<string, string | true>): string {
  const args = [...argv];
  for (const [flag, value] of Object.entries(extra)) {
    if (args.includes(`--${flag}`) || args.some((a) => a.startsWith(`--${flag}=`))) continue;
    args.push(`--${flag}`);
    if (value !== true) args.push(value);
  }
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return ['medianomaly', ...args.map(quote)].join(' ');
}
