// Grow-only, 64-byte aligned scratch buffers, one set per thread, reused across calls
// so that large im2col/packing buffers are not re-faulted in on every kernel call.
#pragma once

#include <cstddef>
#include <cstdlib>

namespace medianomaly {

class ScratchBuffer {
 public:
  ScratchBuffer() = default;
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  ~ScratchBuffer() { std::free(data_); }

  /** At least n floats (contents unspecified), or nullptr when allocation fails. */
  float* floats(size_t n) {
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
