// Internal: the register-tiled inner kernels of the direct ("indirect GEMM")
// convolutions, and zero padding of image planes.
//
// Both kernels compute a 6×16 tile of a product whose 6-row operand is read straight
// from a zero-padded image through a tap-offset table, so the large operand is never
// packed: row i, depth k of A lives at base + offset, with the offset shared by all
// rows (kernel F: 6 pixels, one tap per k) or by all depths (kernel W: 6 taps, one
// pixel per k). The 16-wide operand is a packed weight panel (F) or a channel-last
// gradient (W). Accumulation order is k ascending for every element.
#pragma once

#include <cstdint>

namespace medianomaly::detail {

constexpr int64_t kTileRows = 6;
constexpr int64_t kTileCols = 16;

/**
 * c[i·16 + j] = Σ_{k<kc} base[i][off[k]] · b[k·16 + j], i < 6, j < 16 (c overwritten).
 */
void conv_tile_f(int64_t kc, const float* const base[kTileRows], const int64_t* off, const float* b, float* c);

/**
 * c[i·ldc + j] (+)= Σ_{k<kc} q[k][o[i]] · b[k·ldb + j], i < 6, j < 16; adds to c when
 * accumulate, else overwrites it.
 */
void conv_tile_w(int64_t kc, const float* const* q, const int64_t o[kTileRows], const float* b, int64_t ldb, float* c,
                 int64_t ldc, bool accumulate);

/**
 * dst[p] = src[p] placed at (top, left) inside a zero (Hp × Wp) frame, for `planes`
 * consecutive H × W planes. Parallel over planes.
 */
void pad_planes(const float* src, int64_t planes, int64_t H, int64_t W, int64_t top, int64_t left, int64_t Hp,
                int64_t Wp, float* dst);

}  // namespace medianomaly::detail
