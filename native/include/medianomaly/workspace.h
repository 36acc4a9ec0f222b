// Grow-only, 64-byte aligned scratch buffers, one set per thread, reused across calls
// so that large im2col/packing buffers are not re-faulted in on every kernel call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>

namespace medianomaly {

/**
 * Largest scratch request honoured (2^40 floats): far above any real layer, low enough
 * that n·sizeof(float) + 63 cannot wrap. Larger requests fail like a failed allocation.
 */
constexpr size_t kMaxScratchFloats = size_t{1} << 40;

/**
 * The product of non-negative factors in checked 64-bit arithmetic, for sizing a scratch
 * request; kMaxScratchFloats + 1 (a request that fails) when a factor is negative or the
 * product overflows or exceeds the cap. Kernels size every scratch buffer with it, so a
 * hostile geometry becomes Status::kOutOfMemory instead of a wrapped, too-small buffer.
 */
inline size_t scratch_size(std::initializer_list<int64_t> factors) {
  constexpr size_t kTooLarge = kMaxScratchFloats + 1;
  int64_t n = 1;
  for (int64_t f : factors) {
    if (f < 0 || __builtin_mul_overflow(n, f, &n)) return kTooLarge;
  }
  return static_cast<size_t>(n) > kMaxScratchFloats ? kTooLarge : static_cast<size_t>(n);
}

class ScratchBuffer {
 public:
  ScratchBuffer() = default;
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  ~ScratchBuffer() { std::free(data_); }

  /** At least n floats (contents unspecified), or nullptr when allocation fails. */
  float* floats(size_t n) {
    if (n > kMaxScratchFloats) return nullptr;
    if (n > capacity_) {
      std::free(data_);
      capacity_ = 0;
      const size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!data_) return nullptr;
      capacity_ = bytes / sizeof(float);
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  size_t capacity_ = 0;
};

/** Named slots so that one kernel can hold several buffers at once. */
enum class Scratch { kGemmA = 0, kGemmB, kConvCol, kConvOut, kConvAux, kMisc, kCount };

/** The calling thread's buffer for `slot`, grown to at least n floats (nullptr on failure). */
float* scratch(Scratch slot, size_t n);

}  // namespace medianomaly
