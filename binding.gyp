# The native `cpu` backend (build/Release/medianomaly.node). Built by
# scripts/build-native.mjs (npm install / npm run build:native); CMakeLists.txt builds
# the same sources with cmake-js.
{
  "variables": {
    # yes when OpenBLAS (cblas.h + libopenblas) is found; the addon builds either way.
    "medianomaly_openblas%": "<!(node scripts/find-blas.mjs --have)",
    "medianomaly_openblas_include%": "<!(node scripts/find-blas.mjs --include)",
    "medianomaly_openblas_libdir%": "<!(node scripts/find-blas.mjs --libdir)",
    # avx2: compile for x86-64-v3 (AVX2 + FMA, the GEMM micro-kernel); generic: baseline
    # x86-64 / other CPUs with the scalar micro-kernel. build-native.mjs picks it from the CPU.
    "medianomaly_simd%": "avx2"
  },
  "targets": [
    {
      "target_name": "medianomaly",
      "sources": [
        "native/cpu/threadpool.cc",
        "native/cpu/workspace.cc",
        "native/cpu/gemm.cc",
        "native/cpu/conv.cc",
        "native/cpu/conv_input_grad.cc",
        "native/cpu/conv_kernel.cc",
        "native/cpu/conv_small.cc",
        "native/cpu/conv_winograd.cc",
        "native/cpu/conv_eval.cc",
        "native/cpu/linear_eval.cc",
        "native/cpu/pad.cc",
        "native/cpu/pool.cc",
        "native/cpu/upsample.cc",
        "native/cpu/norm.cc",
        "native/cpu/elementwise.cc",
        "native/cpu/reduce.cc",
        "native/cpu/copy.cc",
        "native/cpu/optim.cc",
        "native/cpu/knn.cc",
        "native/cpu/coreset.cc",
        "native/cpu/half.cc",
        "native/cpu/linalg.cc",
        "native/cpu/poisson.cc",
        "native/cpu/coupling.cc",
        "native/cpu/cosine.cc",
        "native/cpu/simplex.cc",
        "native/cpu/attention.cc",
        "native/cpu/group_norm_silu.cc",
        "native/binding/args.cc",
        "native/binding/addon.cc",
        "native/binding/bind_control.cc",
        "native/binding/bind_gemm.cc",
        "native/binding/bind_conv.cc",
        "native/binding/bind_linear_eval.cc",
        "native/binding/bind_pad.cc",
        "native/binding/bind_pool.cc",
        "native/binding/bind_upsample.cc",
        "native/binding/bind_norm.cc",
        "native/binding/bind_elementwise.cc",
        "native/binding/bind_reduce.cc",
        "native/binding/bind_copy.cc",
        "native/binding/bind_optim.cc",
        "native/binding/bind_knn.cc",
        "native/binding/bind_coreset.cc",
        "native/binding/bind_half.cc",
        "native/binding/bind_linalg.cc",
        "native/binding/bind_poisson.cc",
        "native/binding/bind_coupling.cc",
        "native/binding/bind_cosine.cc",
        "native/binding/bind_simplex.cc",
        "native/binding/bind_attention.cc",
        "native/binding/bind_group_norm_silu.cc",
        "native/binding/malloc_tuning.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/include"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-ffp-contract=off", "-fno-math-errno", "-fexceptions", "-Wall", "-Wno-unused-parameter"],
      "ldflags": ["-pthread"],
      "conditions": [
        ["medianomaly_simd=='avx2'", {
          "cflags_cc": ["-march=x86-64-v3"]
        }],
        ["medianomaly_openblas=='yes'", {
          "defines": ["MEDIANOMALY_HAVE_OPENBLAS"],
          "include_dirs": ["<(medianomaly_openblas_include)"],
          "libraries": [
            "-L<(medianomaly_openblas_libdir)",
            "-lopenblas",
            "-Wl,-rpath,<(medianomaly_openblas_libdir)"
          ]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "OTHER_CPLUSPLUSFLAGS": ["-O3"]
          }
        }]
      ]
    }
  ]
}
