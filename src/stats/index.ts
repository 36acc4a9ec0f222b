// Gaussian statistics: streaming per-position Gaussians (PaDiM), the Ledoit–Wolf shrinkage
// covariance (scikit-learn's LedoitWolf) and batched Mahalanobis distances.
export { GaussianAccumulator, type GaussianParameters } from './gaussian.js';
export { ledoitWolf, type LedoitWolfResult } from './ledoit-wolf.js';
export { mahalanobis, mahalanobisMap, type MahalanobisOptions } from './mahalanobis.js';
export { pinvSymmetric, symmetricEigen } from './eigen.js';
