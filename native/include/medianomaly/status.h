// Status codes returned by the plain C++ kernels. Kernels never throw and never abort:
// the N-API binding turns a non-Ok status into a JS exception.
#pragma once

namespace medianomaly {

enum class Status {
  kOk = 0,
  kIndexOutOfRange,  // an index array (argmax, ...) points outside its tensor
  kUnsupported,      // a mode this build cannot run (e.g. OpenBLAS requested but not linked)
  kOutOfMemory,      // a scratch buffer could not be allocated
};

inline const char* status_message(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kIndexOutOfRange: return "an index is outside the tensor it refers to";
    case Status::kUnsupported: return "not supported by this build";
    case Status::kOutOfMemory: return "out of memory for a scratch buffer";
  }
  return "unknown status";
}

}  // namespace medianomaly
