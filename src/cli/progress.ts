// Progress on stderr, for training (epochs and steps) and for scoring (images scored).
// On a terminal: one line redrawn in place (a bar, the numbers, ETA), at most ten times a
// second. Otherwise (a log file, a pipe, CI): plain lines, one per finished epoch, and a
// heartbeat line at least every `heartbeatSeconds` (default 30, MEDIANOMALY_HEARTBEAT_S)
// while an epoch or the scoring runs longer than that, so a piped log is never silent for
// minutes; a step longer than the interval (DAE at 128 px: 85 s a step on 2 cores) gets a
// timer line repeating the last report with the time since it. Rates are measured from elapsed time and shown with enough digits that a slow
// run reads 0.04 img/s (or 25 s/img), never 0 img/s.
import type { Progress, ScoreProgress } from '../methods/types.js';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

export function formatLoss(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 0.01 && Math.abs(x) < 1000 ? x.toFixed(4) : x.toExponential(3);
}

/** Images per second with two significant digits or more ("1234 img/s", "2.5 img/s", "0.04 img/s"); below 0.1, seconds per image. */
export function formatRate(imagesPerSecond: number): string {
  const r = imagesPerSecond;
  if (!Number.isFinite(r) || r <= 0) return '? img/s';
  if (r >= 100) return `${r.toFixed(0)} img/s`;
  if (r >= 10) return `${r.toFixed(1)} img/s`;
  if (r >= 0.1) return `${r.toFixed(2)} img/s`;
  const spi = 1 / r;
  return `${spi >= 100 ? spi.toFixed(0) : spi.toFixed(1)} s/img`;
}

/** The text of one training progress report (without the bar); mid-epoch reports name the step. */
export function progressText(p: Progress): string {
  const terms = p.terms ? ' ' + Object.entries(p.terms).map(([k, v]) => `${k} ${formatLoss(v)}`).join(' ') : '';
  const step = p.epochDone ? '' : ` step ${p.step}/${p.stepsPerEpoch}`;
  const loss = Number.isFinite(p.loss) ? ` loss ${formatLoss(p.loss)}` : ''; // NaN: a method without a training loss
  return `epoch ${p.epoch}/${p.epochs}${step}${loss}${terms}  ${formatRate(p.imagesPerSecond)}  ETA ${formatDuration(p.etaSeconds)}`;
}

/** The text of one scoring report: images scored of the total, rate, ETA (or the time taken once done). */
export function scoreText(p: ScoreProgress): string {
  const rate = p.seconds > 0 ? p.done / p.seconds : NaN;
  const tail = p.done >= p.total ? `in ${formatDuration(p.seconds)}` : `ETA ${formatDuration(rate > 0 ? (p.total - p.done) / rate : NaN)}`;
  return `scored ${p.done}/${p.total} test images  ${formatRate(rate)}  ${tail}`;
}

function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.floor(f * width);
  return '█'.repeat(full) + (full < width ? '░'.repeat(width - full) : '');
}

export interface ProgressReporter {
  update(p: Progress): void;
  /** Scoring of the test split: images scored so far. */
  scoring(p: ScoreProgress): void;
  /** Writes a whole line now (ending an in-place line first), e.g. the time estimate. */
  line(text: string): void;
  /** The timer's check (public for tests): on a pipe, repeats the last report when nothing was written for an interval. */
  heartbeat(): void;
  /** Ends the in-place line (if any) so later output starts on a fresh line, and stops the timer. */
  done(): void;
}

export interface ReporterOptions {
  /** False: a stream that is not a terminal gets no per-epoch lines (the caller prints one line per run), only heartbeats. */
  plainEpochs?: boolean;
  /** Longest silence on a non-terminal stream while work goes on; 0 = a line for every report. Default MEDIANOMALY_HEARTBEAT_S, else 30. */
  heartbeatSeconds?: number;
  /** Milliseconds clock (default Date.now); tests inject one. */
  now?: () => number;
  /** Run the heartbeat on a timer (default true on a pipe with a non-zero interval); tests call heartbeat() instead. */
  timer?: boolean;
}

/** The heartbeat interval from MEDIANOMALY_HEARTBEAT_S (seconds, ≥ 0), else 30. */
export function heartbeatSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.MEDIANOMALY_HEARTBEAT_S;
  if (text === undefined || text.trim() === '') return 30;
  const s = Number(text);
  if (!Number.isFinite(s) || s < 0) throw new RangeError(`MEDIANOMALY_HEARTBEAT_S must be a number of seconds ≥ 0, got "${text}"`);
  return s;
}

/** A reporter writing to `stream` (stderr by default); `prefix` names the run. */
export function progressReporter(prefix: string, stream: NodeJS.WriteStream = process.stderr, opts: ReporterOptions = {}): ProgressReporter {
  const tty = stream.isTTY === true;
  const plainEpochs = opts.plainEpochs !== false;
  const now = opts.now ?? Date.now;
  const heartbeatMs = 1000 * (opts.heartbeatSeconds ?? heartbeatSeconds());
  let lastDraw = 0;
  let lastLine = now(); // the first heartbeat comes one interval after the start
  let drawn = false;
  let last: { text: string; at: number } | null = null; // the last report, for the timer's line
  const draw = (fraction: number, text: string) => {
    const pct = `${(100 * fraction).toFixed(0).padStart(3)}%`;
    const cols = (stream.columns || 120) - 1; // 0 when the terminal does not say
    // A narrow terminal loses the bar before it loses the numbers.
    let line = `${prefix}${bar(fraction, 20)} ${pct} ${text}`;
    if (line.length > cols) line = `${prefix}${pct} ${text}`;
    if (line.length > cols) line = line.slice(0, cols);
    stream.write(`\r${line}\x1b[K`);
    drawn = true;
  };
  /** Plain (non-terminal) output: a line when `due`, or when the heartbeat interval has passed. */
  const plain = (text: string, due: boolean) => {
    const t = now();
    last = { text, at: t };
    if (due || t - lastLine >= heartbeatMs) {
      stream.write(`${prefix}${text}\n`);
      lastLine = t;
    }
  };
  const endLine = () => {
    if (tty && drawn) stream.write('\n');
    drawn = false;
  };
  const heartbeat = () => {
    const t = now();
    if (tty || !last || t - lastLine < heartbeatMs) return;
    stream.write(`${prefix}${last.text}  (working, ${formatDuration((t - last.at) / 1000)} since this report)\n`);
    lastLine = t;
  };
  // The work runs in a worker thread (train, bench), so this thread's timer fires during a long step.
  const timer = !tty && heartbeatMs > 0 && opts.timer !== false ? setInterval(heartbeat, Math.min(heartbeatMs, 2 ** 31 - 1)) : null;
  timer?.unref();
  return {
    update(p) {
      if (!tty) return plain(progressText(p), p.epochDone && plainEpochs);
      const t = now();
      if (!p.epochDone && t - lastDraw < 100) return;
      lastDraw = t;
      draw((p.epoch - 1 + (p.stepsPerEpoch ? p.step / p.stepsPerEpoch : 1)) / p.epochs, progressText(p));
    },
    scoring(p) {
      const finished = p.done >= p.total;
      if (!tty) return plain(scoreText(p), finished && plainEpochs);
      const t = now();
      if (!finished && t - lastDraw < 100) return;
      lastDraw = t;
      draw(p.total ? p.done / p.total : 1, scoreText(p));
    },
    line(text) {
      endLine();
      stream.write(`${prefix}${text}\n`);
      lastLine = now();
    },
    heartbeat,
    done() {
      endLine();
      if (timer) clearInterval(timer);
      last = null;
    },
  };
}
