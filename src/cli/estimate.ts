// The time a run will take, said once its first steps are measured, with the settings that
// would make it shorter. A run at the reference setting can take days on a CPU (DAE at
// 128 px: about 800 s an epoch, 250 epochs); the user should learn that in the first
// minute, not from a silent log.
//
// The measurement is the run's own first steps (the trainer's rate over the run so far), not
// a separate warm-up: nothing extra is computed, so the run's numbers are exactly those of
// a run without the estimate.
import type { TrainPlan } from '../harness/train.js';
import type { Progress } from '../methods/types.js';
import { formatDuration, formatRate } from './progress.js';

/** Steps measured before the estimate is given (the first includes one-time set-up costs). */
export const WARMUP_STEPS = 3;
/** Or sooner, once this many seconds of training are measured (slow steps). */
export const WARMUP_SECONDS = 20;
/** Runs shorter than this get no advice on shortening them. */
export const SUGGEST_ABOVE_SECONDS = 600;

export interface EstimateOptions {
  /** The dataset's image count is set by --train-count (synthetic) rather than --limit. */
  synthetic: boolean;
}

export interface Estimate {
  /** What to print: the estimate, then (a long run) the settings that shorten it. */
  lines: string[];
  /** The estimated training time of the whole run, in seconds. */
  seconds: number;
}

export interface Estimator {
  /** Feeds one training report; returns the estimate once, when enough is measured. */
  observe(p: Progress): Estimate | null;
}

/** Images per step and per epoch as the reports count them: one pass over the training images, or the method's own epoch (two-stage SSL: fixed steps of all views). */
function epochSize(plan: TrainPlan): { stepImages: number; epochImages: number } {
  if (plan.epoch) return { stepImages: plan.epoch.stepImages, epochImages: plan.epoch.steps * plan.epoch.stepImages };
  return { stepImages: plan.batchSize, epochImages: plan.trainImages };
}

/** Seconds of training measured so far in this session, from the reports' own numbers. */
function measuredSeconds(p: Progress, plan: TrainPlan, steps: number): number {
  const { stepImages, epochImages } = epochSize(plan);
  const images = Math.min(steps * stepImages, (p.epoch - plan.startEpoch) * epochImages);
  return p.imagesPerSecond > 0 ? images / p.imagesPerSecond : 0;
}

export function estimator(plan: TrainPlan, opts: EstimateOptions): Estimator {
  let steps = 0;
  let given = false;
  return {
    observe(p) {
      if (given) return null;
      steps++;
      const seconds = measuredSeconds(p, plan, steps);
      if (steps < WARMUP_STEPS && !p.epochDone && seconds < WARMUP_SECONDS) return null;
      given = true;
      return { lines: estimateLines(plan, p, steps, seconds, opts), seconds: seconds + p.etaSeconds };
    },
  };
}

/** The estimate: total time at the measured rate, and shorter settings with their times. */
export function estimateLines(plan: TrainPlan, p: Progress, steps: number, elapsed: number, opts: EstimateOptions): string[] {
  const rate = p.imagesPerSecond;
  const epochs = plan.epochs - plan.startEpoch;
  const total = elapsed + p.etaSeconds;
  const { epochImages } = epochSize(plan);
  const perEpoch = rate > 0 ? epochImages / rate : NaN;
  // An epoch is one pass over the training images, or (Method.epochPlan) a fixed number of steps.
  const epochText = plan.epoch
    ? `${plan.epoch.steps} step${plan.epoch.steps === 1 ? '' : 's'} of ${plan.epoch.stepText ?? `${plan.epoch.stepImages} images`}`
    : `${plan.trainImages} images`;
  const what = `${epochs} epoch${epochs === 1 ? '' : 's'}${plan.startEpoch ? ' left' : ''} × ${epochText} at ${plan.size} px`;
  const lines = [
    `estimated training time ${formatDuration(total)} (${what}; ${formatRate(rate)} measured on the first ${steps} step${steps === 1 ? '' : 's'})` +
      (plan.testImages ? `, then testing ${plan.testImages} images` : ''),
  ];
  const shorter: string[] = [];
  const fewerEpochs = Math.max(1, Math.round(plan.epochs / 10));
  if (fewerEpochs < plan.epochs && epochs > 1) shorter.push(`--epochs ${fewerEpochs} (about ${formatDuration(perEpoch * Math.max(0, fewerEpochs - plan.startEpoch))})`);
  const half = plan.size / 2;
  if (half >= 32 && half % 16 === 0) shorter.push(`--size ${half} (a quarter of the pixels: roughly 4× faster)`);
  if (plan.epoch) {
    // Fixed-length epochs: fewer training images would not shorten them; fewer steps do.
    const fewerSteps = Math.round(plan.epoch.steps / 4);
    if (fewerSteps >= 1) shorter.push(`--opt ${plan.epoch.stepsOption}=${fewerSteps} (about ${formatDuration((total * fewerSteps) / plan.epoch.steps)})`);
  } else {
    const fewer = Math.round(plan.trainImages / 4);
    if (fewer >= plan.batchSize && fewer >= 16) shorter.push(`${opts.synthetic ? '--train-count' : '--limit'} ${fewer} (about ${formatDuration(total / 4)})`);
  }
  if (shorter.length && total >= SUGGEST_ABOVE_SECONDS) lines.push(`  shorter: ${shorter.join(', ')}`);
  return lines;
}
