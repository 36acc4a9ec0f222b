// The colour bar beside each overlay: jet from blue (low end, bottom) to red (high end,
// top), labelled with the values in a built-in pixel font (the same pixels everywhere).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { jet } from '../../src/harness/report/colormap.js';
import { barLabel, withColourBar } from '../../src/harness/report/colour-bar.js';
import { drawText, textSize } from '../../src/harness/report/pixel-font.js';

test('withColourBar appends a labelled jet bar on the right, keeping the image', () => {
  const side = 40;
  const img = new Uint8Array(side * side * 3).fill(7);
  const { rgb, width, height } = withColourBar(img, side, { lo: 0.001, hi: 0.25 });
  assert.is(height, side);
  const labelW = Math.max(...['0.25', '0.126', '0.001'].map((l) => textSize(l).width));
  assert.is(width, side + 4 + 8 + 3 + labelW + 3);
  const px = (x: number, y: number) => Array.from(rgb.subarray((y * width + x) * 3, (y * width + x) * 3 + 3));
  assert.equal(px(0, 0), [7, 7, 7]);
  assert.equal(px(side - 1, side - 1), [7, 7, 7]);
  assert.equal(px(side + 6, 4), jet(1)); // top of the bar: the high end
  assert.equal(px(side + 6, side - 1 - 4), jet(0)); // bottom: the low end
  let ink = 0;
  for (let y = 0; y < side; y++) for (let x = side + 15; x < width; x++) if (px(x, y)[0] === 255 && px(x, y)[2] === 255) ink++;
  assert.ok(ink > 30, `labels drawn (${ink} white pixels)`);
});

test('barLabel: 3 significant digits in the glyphs the font has; unknown glyphs are refused', () => {
  assert.is(barLabel(0.123456), '0.123');
  assert.is(barLabel(1234567), '1230000');
  assert.is(barLabel(-2.5e-9), '-2.5e-9');
  assert.throws(() => drawText(new Uint8Array(300), 10, 'x', 0, 0, [255, 255, 255]), /no glyph for "x"/);
});

test.run();
