// `medianomaly worker --queue URL [--concurrency N] [--runs DIR]`: takes bench jobs from
// the queue and runs them with the local bench's code until stopped (Ctrl-C / SIGTERM:
// running jobs stop after their current step and go back on the queue, their checkpoint
// kept in the runs folder).
import type { CommandModule } from 'yargs';
import { DEFAULT_RUNS, startWorker } from '../../queue/worker.js';

interface Args {
  queue: string;
  concurrency?: number;
  runs?: string;
  lockSeconds?: number;
  name?: string;
}

export const workerCommand: CommandModule<object, Args> = {
  command: 'worker',
  describe: 'Take bench jobs from a queue (bench --queue) and run them; until stopped',
  builder: (y) =>
    y
      .option('queue', { type: 'string', demandOption: true, describe: 'the Redis of the queue: redis://HOST:PORT[/DB]' })
      .option('concurrency', { type: 'number', default: 1, describe: 'jobs run at once, each in its own thread (mind MEDIANOMALY_THREADS: threads per job)' })
      .option('runs', { type: 'string', describe: `runs folder (default ./${DEFAULT_RUNS}); on a file system shared by the workers, a job taken over from a dead worker resumes from its last epoch checkpoint` })
      .option('lock-seconds', { type: 'number', default: 30, describe: 'how long a job stays locked to a worker that stopped answering (killed, machine lost) before another takes it' })
      .option('name', { type: 'string', describe: 'worker name in progress and status (default host:pid)' }) as never,
  handler: async (args) => {
    const w = await startWorker({
      queue: args.queue,
      concurrency: args.concurrency,
      runs: args.runs,
      lockSeconds: args.lockSeconds,
      name: args.name,
      onEvent: (line) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`),
    });
    console.error(`medianomaly: worker ${w.name} on ${args.queue}, ${args.concurrency ?? 1} at once, runs in ${args.runs ?? DEFAULT_RUNS}; Ctrl-C stops it (running jobs go back on the queue)`);
    let stopping = false;
    const stop = () => {
      if (stopping) process.exit(130);
      stopping = true;
      console.error('medianomaly: stopping after the current step of each running job (Ctrl-C again to quit at once)');
      void w.stop();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    await w.closed;
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  },
};
