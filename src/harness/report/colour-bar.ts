// A labelled colour bar drawn beside an overlay, so a reader sees which map values the
// colours stand for without a separate legend file that can get lost: the bar runs from
// the scale's low end (bottom, blue) to its high end (top, red), labelled with the values
// at both ends and the middle. Values beyond the ends take the end colours.
import { jet } from './colormap.js';
import { drawText, textSize } from './pixel-font.js';

/** A value as at most 3 significant digits, in the characters the pixel font has. */
export function barLabel(v: number): string {
  return String(Number(v.toPrecision(3)));
}

const GAP = 4;
const BAR = 8;
const PAD = 3;
const INK: [number, number, number] = [255, 255, 255];

/**
 * `rgb` (side × side) with a colour bar for `range` appended on its right, on black.
 * Returns the new buffer and its width (the height stays `side`).
 */
export function withColourBar(rgb: Uint8Array, side: number, range: { lo: number; hi: number }): { rgb: Uint8Array; width: number; height: number } {
  if (rgb.length !== side * side * 3) throw new RangeError(`withColourBar: ${rgb.length} bytes is not a ${side} × ${side} RGB image`);
  const scale = side >= 256 ? 2 : 1;
  const labels = [range.hi, (range.lo + range.hi) / 2, range.lo].map(barLabel);
  const textW = Math.max(...labels.map((l) => textSize(l, scale).width));
  const textH = textSize('0', scale).height;
  const width = side + GAP + BAR + PAD + textW + PAD;
  const out = new Uint8Array(width * side * 3);
  for (let y = 0; y < side; y++) out.set(rgb.subarray(y * side * 3, (y + 1) * side * 3), y * width * 3);
  // The bar's ends sit half a label's height inside the image, so the end labels fit beside them.
  const top = Math.ceil(textH / 2);
  const bottom = side - 1 - Math.ceil(textH / 2);
  if (bottom <= top) return { rgb: out, width, height: side }; // too small to draw a bar in
  const x0 = side + GAP;
  for (let y = top; y <= bottom; y++) {
    const c = jet((bottom - y) / (bottom - top));
    for (let x = x0; x < x0 + BAR; x++) out.set(c, (y * width + x) * 3);
  }
  const tx = x0 + BAR + PAD;
  const ys = [top, Math.round((top + bottom) / 2), bottom];
  labels.forEach((l, i) => drawText(out, width, l, tx, ys[i]! - Math.floor(textH / 2), INK, scale));
  return { rgb: out, width, height: side };
}
