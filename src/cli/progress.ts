// Training progress on stderr. On a terminal: one line redrawn in place (a bar, epoch,
// loss, images/s, ETA), at most ten times a second. Otherwise (a log file, a pipe, CI):
// one plain line per finished epoch, so the log stays readable.
import type { Progress } from '../methods/types.js';

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

/** The text of one progress report (without the bar). */
export function progressText(p: Progress): string {
  const terms = p.terms ? ' ' + Object.entries(p.terms).map(([k, v]) => `${k} ${formatLoss(v)}`).join(' ') : '';
  return `epoch ${p.epoch}/${p.epochs} loss ${formatLoss(p.loss)}${terms}  ${p.imagesPerSecond.toFixed(0)} img/s  ETA ${formatDuration(p.etaSeconds)}`;
}

function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.floor(f * width);
  return '█'.repeat(full) + (full < width ? '░'.repeat(width - full) : '');
}

export interface ProgressReporter {
  update(p: Progress): void;
  /** Ends the in-place line (if any) so later output starts on a fresh line. */
  done(): void;
}

/**
 * A reporter writing to `stream` (stderr by default); `prefix` names the run. With
 * plainEpochs false, a stream that is not a terminal gets nothing (the caller prints one
 * line per run instead).
 */
export function progressReporter(prefix: string, stream: NodeJS.WriteStream = process.stderr, opts: { plainEpochs?: boolean } = {}): ProgressReporter {
  const tty = stream.isTTY === true;
  const plainEpochs = opts.plainEpochs !== false;
  let last = 0;
  let drawn = false;
  return {
    update(p) {
      if (!tty) {
        if (p.epochDone && plainEpochs) stream.write(`${prefix}${progressText(p)}\n`);
        return;
      }
      const now = Date.now();
      if (!p.epochDone && now - last < 100) return;
      last = now;
      const fraction = (p.epoch - 1 + (p.stepsPerEpoch ? p.step / p.stepsPerEpoch : 1)) / p.epochs;
      const pct = `${(100 * fraction).toFixed(0).padStart(3)}%`;
      const cols = (stream.columns || 120) - 1; // 0 when the terminal does not say
      // A narrow terminal loses the bar before it loses the numbers.
      let line = `${prefix}${bar(fraction, 20)} ${pct} ${progressText(p)}`;
      if (line.length > cols) line = `${prefix}${pct} ${progressText(p)}`;
      if (line.length > cols) line = line.slice(0, cols);
      stream.write(`\r${line}\x1b[K`);
      drawn = true;
    },
    done() {
      if (tty && drawn) stream.write('\n');
      drawn = false;
    },
  };
}
