// A 5 × 7 pixel font for numbers, drawn straight into RGB byte buffers. The colour bar's
// labels need a handful of glyphs; rendering them ourselves keeps the PNGs identical on
// every machine (SVG text through sharp depends on the fonts a system has installed).

const W = 5;
const H = 7;

// Each glyph: 7 rows of 5 columns, '#' = ink.
const GLYPHS: Record<string, readonly string[]> = {
  '0': [' ### ', '#   #', '#  ##', '# # #', '##  #', '#   #', ' ### '],
  '1': ['  #  ', ' ##  ', '  #  ', '  #  ', '  #  ', '  #  ', ' ### '],
  '2': [' ### ', '#   #', '    #', '   # ', '  #  ', ' #   ', '#####'],
  '3': ['#####', '   # ', '  #  ', '   # ', '    #', '#   #', ' ### '],
  '4': ['   # ', '  ## ', ' # # ', '#  # ', '#####', '   # ', '   # '],
  '5': ['#####', '#    ', '#### ', '    #', '    #', '#   #', ' ### '],
  '6': ['  ## ', ' #   ', '#    ', '#### ', '#   #', '#   #', ' ### '],
  '7': ['#####', '    #', '   # ', '  #  ', ' #   ', ' #   ', ' #   '],
  '8': [' ### ', '#   #', '#   #', ' ### ', '#   #', '#   #', ' ### '],
  '9': [' ### ', '#   #', '#   #', ' ####', '    #', '   # ', ' ##  '],
  '.': ['     ', '     ', '     ', '     ', '     ', ' ##  ', ' ##  '],
  '-': ['     ', '     ', '     ', ' ### ', '     ', '     ', '     '],
  '+': ['     ', '  #  ', '  #  ', '#####', '  #  ', '  #  ', '     '],
  'e': ['     ', '     ', ' ### ', '#   #', '#####', '#    ', ' ### '],
  ' ': ['     ', '     ', '     ', '     ', '     ', '     ', '     '],
};

/** Width and height in pixels of `text` at `scale` (one blank column between glyphs). */
export function textSize(text: string, scale = 1): { width: number; height: number } {
  return { width: Math.max(0, text.length * (W + 1) - 1) * scale, height: H * scale };
}

/**
 * Draws `text` into `rgb` (row-major, 3 bytes a pixel, `width` pixels a row) with its top-left
 * corner at (x, y); pixels outside the buffer are skipped. Throws for a character the font lacks.
 */
export function drawText(rgb: Uint8Array, width: number, text: string, x: number, y: number, color: readonly [number, number, number], scale = 1): void {
  const height = rgb.length / (3 * width);
  for (let k = 0; k < text.length; k++) {
    const glyph = GLYPHS[text[k]!];
    if (!glyph) throw new RangeError(`drawText: no glyph for ${JSON.stringify(text[k])} in ${JSON.stringify(text)} (the font has digits, '.', '-', '+', 'e' and space)`);
    const gx = x + k * (W + 1) * scale;
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        if (glyph[r]![c] !== '#') continue;
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            const px = gx + c * scale + dx;
            const py = y + r * scale + dy;
            if (px >= 0 && py >= 0 && px < width && py < height) rgb.set(color, (py * width + px) * 3);
          }
        }
      }
    }
  }
}
