// Per-thread scratch buffers (see workspace.h).
#include "medianomaly/workspace.h"

namespace medianomaly {

float* scratch(Scratch slot, size_t n) {
  thread_local ScratchBuffer buffers[static_cast<int>(Scratch::kCount)];
  return buffers[static_cast<int>(slot)].floats(n);
}

}  // namespace medianomaly
