// Named points in the end-of-epoch commit of a training run (log line, checkpoint files,
// pointer swap, cleanup, model save) at which a test can stop the process — with a real
// SIGKILL — to prove that a kill at any of them resumes to the same run. Production code
// never installs a hook; passing a point without one costs one null check.
//
// The order within epoch N of a run folder (see harness/train.ts and checkpoint.ts):
//   log-temp      the log with epoch N's line is in a temp file, not yet renamed
//   log           the log holds epoch N's line (its checkpoint may not exist yet)
//   epoch-files   epoch N's tensors are written into a temp folder
//   epoch-folder  the temp folder is renamed to epoch-<N>; checkpoint.json still names N−1
//   pointer-temp  the new checkpoint.json is in a temp file, not yet renamed
//   pointer       checkpoint.json names epoch N: the commit point
//   cleanup       before each unreferenced epoch folder is removed
// and after the last epoch:
//   saved         config.json and model.safetensors written; run.json still says "training"
//   trained       run.json says "trained"; the checkpoint folder is not yet removed

export const CRASH_POINTS = ['log-temp', 'log', 'epoch-files', 'epoch-folder', 'pointer-temp', 'pointer', 'cleanup', 'saved', 'trained'] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

type Hook = (point: CrashPoint, epoch: number) => void;
let hook: Hook | null = null;

/** Installs (or, with null, removes) the hook called at every crash point. For tests. */
export function setCrashHook(fn: Hook | null): void {
  hook = fn;
}

/** Marks that the run reached `point` while committing `epoch` (epochs completed for saved/trained). */
export function crashPoint(point: CrashPoint, epoch: number): void {
  if (hook) hook(point, epoch);
}
