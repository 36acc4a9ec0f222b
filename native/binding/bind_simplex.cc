// simplexField3: multi-octave 3-D OpenSimplex noise on an integer grid, float64.
#include <cmath>
#include <string>

#include "args.h"
#include "medianomaly/simplex.h"
#include "register.h"

namespace medianomaly::binding {

namespace {

/** Most octaves accepted (the period halves each octave: 64 reach 2^−63 of the first). */
constexpr int64_t kMaxOctaves = kSimplexMaxOctaves;

Napi::Value SimplexField3(const Napi::CallbackInfo& info) {
  Args a(info, "simplexField3", 4);
  SimplexFieldParams p;
  p.depth = a.size("depth");
  p.height = a.size("height");
  p.width = a.size("width");
  p.octaves = a.positive("octaves");
  if (p.octaves > kMaxOctaves) a.range_error("p.octaves must be at most " + std::to_string(kMaxOctaves));
  p.persistence = a.number("persistence");
  if (!std::isfinite(p.persistence)) a.range_error("p.persistence must be a finite number");
  p.period = a.number("period");
  if (!(p.period > 0) || !std::isfinite(p.period)) a.range_error("p.period must be a finite number > 0");
  p.x0 = a.number("x0");
  p.y0 = a.number("y0");
  if (!std::isfinite(p.x0) || !std::isfinite(p.y0)) a.range_error("p.x0 and p.y0 must be finite numbers");
  const int64_t n = checked_product(a.env(), a.kernel(), {p.depth, p.height, p.width});
  // Column and row indices are converted to double: keep them exact.
  if (p.height > (int64_t{1} << 31) || p.width > (int64_t{1} << 31)) a.range_error("p.height and p.width must be at most 2^31");
  const I32Arg tables = a.i32(1, "tables", 512, "perm[256] then pgi3[256]");
  for (int i = 0; i < 256; ++i) {
    if (tables.data[i] < 0 || tables.data[i] > 255) a.range_error("tables: perm entries must lie in [0, 255]");
    const int32_t g = tables.data[256 + i];
    if (g < 0 || g > 69 || g % 3 != 0) a.range_error("tables: pgi3 entries must be multiples of 3 in [0, 69]");
  }
  const F64Arg z = a.f64(2, "z", p.depth, "depth");
  for (int64_t k = 0; k < p.depth; ++k)
    if (!std::isfinite(z.data[k])) a.range_error("z: entries must be finite");
  const F64Arg out = a.f64(3, "out", n, "depth·height·width");
  if (n == 0) return a.env().Undefined();
  simplex_field3(p, tables.data, z.data, out.data);
  return a.env().Undefined();
}

}  // namespace

void register_simplex(Napi::Env env, Napi::Object exports) { define(env, exports, "simplexField3", SimplexField3); }

}  // namespace medianomaly::binding
