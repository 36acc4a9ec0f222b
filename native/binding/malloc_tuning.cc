// glibc malloc tuning for training loops, applied once when the addon loads.
//
// Every training step allocates and drops ~100 MB of activation and gradient buffers
// (Float32Arrays the engine creates; V8 frees them at its next collection). With glibc's
// defaults the larger ones are mmap'ed and the freed top of the heap is trimmed, so every
// step page-faults fresh, kernel-zeroed pages back in: ~10-15 % of an AE training step on
// this project's reference machine, more for the DAE's U-Net whose 128 px activations are
// 40-70 MB each. Keeping freed memory in the heap (buffers up to 128 MB from the heap, trim
// only above 512 MB free) lets the next step reuse it. The resident high-water mark is
// unchanged; memory freed below 512 MB is simply not returned to the OS.
// MEDIANOMALY_MALLOC_TUNING=0 leaves the host process's allocator settings alone.
#include "malloc_tuning.h"

#include <cstdlib>
#include <cstring>
#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace medianomaly::binding {

namespace {
std::once_flag once;
bool applied = false;
}  // namespace

bool tune_malloc() {
  std::call_once(once, [] {
#if defined(__GLIBC__)
    const char* env = std::getenv("MEDIANOMALY_MALLOC_TUNING");
    if (env && std::strcmp(env, "0") == 0) return;
    // Explicit MALLOC_* settings in the environment win: the user already chose.
    if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_")) return;
    applied = mallopt(M_MMAP_THRESHOLD, 128 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 512 << 20) == 1;
#endif
  });
  return applied;
}

}  // namespace medianomaly::binding
