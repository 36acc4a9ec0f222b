// ImageNet backbone weights (and LPIPS-squeeze's), safely: a restricted reader for PyTorch checkpoints (nothing in
// a .pth runs), checks against the architecture, conversion to .safetensors, the explicit
// download of torchvision's files (SHA-256 verified) into a cache, and resolveWeights, which
// methods use to find the file (and never downloads).
export {
  weightsCacheDir,
  listCachedWeights,
  cachePaths,
  weightsSources,
  describeSources,
  TORCHVISION_WEIGHTS,
  TORCHVISION_BASE_URL,
  SQUEEZENET1_1_WEIGHTS,
  LPIPS_SQUEEZE_WEIGHTS,
  LPIPS_BASE_URL,
  LPIPS_SQUEEZE_SHA256,
  type CachedWeights,
  type CacheRecord,
  type SourceRecord,
  type WeightsSource,
} from './cache.js';
export { checkWeights, importPth, convertPth, sha256OfFile, type WeightsReport, type ImportOptions, type ImportResult, type WeightsFormat, type TrunkSource } from './convert.js';
export { fetchWeights, hashPrefixOf, weightsUrl, type FetchOptions, type FetchProgress, type FetchResult } from './fetch.js';
export { resolveWeights, type ResolvedWeights } from './resolve.js';
export { readPth, parsePth, RefusedGlobalError, type PthContent, type ReadPthOptions } from './pth/reader.js';
