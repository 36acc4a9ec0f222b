// PNG encoding of RGB byte buffers through sharp, as files or data: URIs.
import sharp from 'sharp';

/** PNG bytes of a width × height RGB image (square when `height` is left out). */
export async function pngOf(rgb: Uint8Array, width: number, height = width): Promise<Buffer> {
  if (rgb.length !== width * height * 3) throw new RangeError(`pngOf: ${rgb.length} bytes is not a ${width} × ${height} RGB image`);
  return sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 9 })
    .toBuffer();
}

/** A data: URI of the PNG, for a self-contained HTML page. */
export async function pngDataUri(rgb: Uint8Array, side: number): Promise<string> {
  return `data:image/png;base64,${(await pngOf(rgb, side)).toString('base64')}`;
}
