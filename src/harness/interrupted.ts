// The error a run raises when it is stopped (AbortSignal, Ctrl-C): it says what finished,
// what did not, and where the resumable state is (a run stopped in its first epoch has none).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export type InterruptedStage = 'loading' | 'training' | 'testing';

export class RunInterrupted extends Error {
  override name = 'AbortError';
  constructor(
    /** The run folder. */
    readonly dir: string,
    readonly stage: InterruptedStage,
    /** Epochs completed and checkpointed (training), of `epochs`. */
    readonly epochsDone: number,
    readonly epochs: number,
  ) {
    super(
      stage === 'training'
        ? existsSync(join(dir, 'checkpoint'))
          ? `${dir}: training stopped after ${epochsDone} of ${epochs} epochs (checkpoint kept in ${dir}/checkpoint)`
          : `${dir}: training stopped during its first epoch (no checkpoint yet: the run starts over)`
        : stage === 'testing'
          ? `${dir}: trained, but stopped before its test metrics were written`
          : `${dir}: stopped before training started`,
    );
  }
}

export function isAbortError(e: unknown): boolean {
  return !!e && typeof e === 'object' && (e as { name?: unknown }).name === 'AbortError';
}
