// ImageNet backbone weights, safely: a restricted reader for PyTorch checkpoints (nothing in
// a .pth runs), checks against the architecture, conversion to .safetensors, the explicit
// download of torchvision's files (SHA-256 verified) into a cache, and resolveWeights, which
// methods use to find the file (and never downloads).
export { weightsCacheDir, listCachedWeights, cachePaths, TORCHVISION_WEIGHTS, TORCHVISION_BASE_URL, type CachedWeights, type CacheRecord } from './cache.js';
export { checkWeights, importPth, convertPth, sha256OfFile, type WeightsReport, type ImportOptions, type ImportResult, type WeightsFormat } from './convert.js';
export { fetchWeights, hashPrefixOf, weightsUrl, type FetchOptions, type FetchProgress, type FetchResult } from './fetch.js';
export { resolveWeights, type ResolvedWeights } from './resolve.js';
export { readPth, parsePth, RefusedGlobalError, type PthContent, type ReadPthOptions } from './pth/reader.js';
