// Scratch buffers for intermediate maps, reused from one image to the next.
//
// A 64 × 64 image needs a dozen intermediate maps; allocating them afresh for
// every image made garbage collection a visible share of the generation time.
// Generation is synchronous, so one buffer per name is enough: a generator
// finishes with its scratch maps before the next image starts. Anything that
// leaves a generator (image, mask, region) is freshly allocated instead.

const pool = new Map<string, Float32Array>();

/** A zero-filled Float32Array of length n, owned by the caller until it returns. */
export function scratch(name: string, n: number): Float32Array {
  let a = pool.get(name);
  if (!a || a.length !== n) {
    a = new Float32Array(n);
    pool.set(name, a);
  } else {
    a.fill(0);
  }
  return a;
}
