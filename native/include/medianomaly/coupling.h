// The affine coupling step of FrEIA's AllInOneBlock, fused around its subnetwork, and
// the Haar-random rotation its soft permutation is drawn from.
//
// Layouts (row-major, positions innermost): x, y, dx [B, C, HW]; r, dr [B, 2·C2, HW]
// (the subnet's raw output: s = 0.1·r[:, :C2], t = 0.1·r[:, C2:]); th [B, C2, HW];
// gamma, offset, dgamma, doffset [C]; logdet, dlogdet [B]; perm_inv [C] or null.
// C2 = C − C1.
//
// Determinism: the forward is parallel over samples (vectors) or (sample, channel) rows
// (maps), each log-det summed over its sample in one fixed order; the backward is
// parallel over channels, each channel's γ/offset sums added over (b, position) in
// order. Results do not depend on the thread count. Float arithmetic in the same order
// as the `ts` reference (src/backend/ts/coupling.ts) without fused multiply-adds; exp
// and tanh are vec_math.h's (about 1 ulp, 8 lanes) on AVX2 builds, so the two agree to
// float rounding, not bit for bit.
#pragma once

#include <cstdint>

#include "medianomaly/status.h"

namespace medianomaly {

struct CouplingParams {
  int64_t B = 0, C = 0, C1 = 0, HW = 0;
  float clamp = 1.0f;
  bool scaled = false;  // j = α·tanh(s/α) instead of α·tanh(s)
};

/**
 * g_k = 0.2·ln(1 + exp(γ_k/2)) (linear above γ_k/2 = 20); u = concat(x1, x2·e^j + t),
 * j = α·th, th = tanh(s) or tanh(s/α); v = u·g + offset, written to channel perm_inv[k]
 * of y (channel k when perm_inv is null); th saved for the backward;
 * logdet[b] = Σ_{C2, HW} j + HW·Σ_k ln g_k.
 */
void coupling_forward(const CouplingParams& p, const float* x, const float* r, const float* gamma,
                      const float* offset, const int32_t* perm_inv, float* y, float* th, float* logdet);

/**
 * From dy (w.r.t. y) and dlogdet (null = 0): dx (the direct part: x1's path through the
 * subnet is the caller's), dr, dgamma, doffset. All outputs overwritten.
 */
void coupling_backward(const CouplingParams& p, const float* x, const float* r, const float* th,
                       const float* gamma, const int32_t* perm_inv, const float* dy, const float* dlogdet,
                       float* dx, float* dr, float* dgamma, float* doffset);

/**
 * Q of the Householder QR of the C×C matrix whose column k is a[k·C .. k·C + C) (a is
 * overwritten), with columns signed so that R has a positive diagonal and column 0
 * negated when det Q = −1: for a standard Gaussian `a`, a Haar-random rotation.
 * q is row-major C×C. Scratch: C² + C doubles.
 */
Status coupling_rotation(int64_t C, double* a, double* q);

}  // namespace medianomaly
