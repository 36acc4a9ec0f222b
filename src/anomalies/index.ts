// The synthetic-anomaly generators: a public module of their own (`anomalies` in the
// library's API). Each generator is seeded by the engine's Generator, works on grey
// and RGB, uint8 (0–255) and float (0–1) images, and returns the image with its
// pixel mask / soft label.
export type { PixelImage, SyntheticAnomaly } from './image.js';
export { checkImage, toUint8, toFloat32, toGrey, toRgb, crop, resizeLinear } from './image.js';
export { patchEx, patchExPresets, PATCH_EX_MIN_SIDE, type PatchExOptions, type PatchExResult, type PatchExMode, type PatchExLabelMode, type PatchRecord, type PatchRect, type PatchFailure } from './patch-ex.js';
export { gamma as sampleGamma } from './sampling.js';
export { seamlessClone, seamlessCloneDetailed, type SeamlessCloneMode, type SeamlessCloneDetails } from './seamless-clone.js';
export { draem, loadTextures, perlinNoise, perlinFromAngles, rotateImage, AUGMENTATIONS as draemAugmentations, type DraemOptions, type DraemAnomaly, type DraemAugmentation, type TextureOptions } from './draem.js';
export { colorJitter, colorJitterDraw, applyColorJitter, type ColorJitterOptions, type ColorJitterDraw } from './jitter.js';
export * as cutpaste from './cutpaste-api.js';
export { anatpaste, anatomyMask, clahe, otsuThreshold, type AnatPasteOptions, type AnatPasteResult } from './anatpaste.js';
export { OpenSimplex, fractalNoise2, fractalNoise3, simplexPermutation, RDPP_FRACTAL, type FractalOptions } from './simplex-noise.js';
