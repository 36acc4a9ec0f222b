// Process-wide allocator settings the addon applies once at load (see malloc_tuning.cc).
#pragma once

namespace medianomaly::binding {

/** Applies the glibc malloc tuning once per process; returns whether it is in effect. */
bool tune_malloc();

}  // namespace medianomaly::binding
