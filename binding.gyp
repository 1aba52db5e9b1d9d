{
  "targets": [
    {
      "target_name": "topdown_blas",
      "sources": [
        "native/topdown_blas.cc",
        "native/machine_peak.cc",
        "native/dnnl_gemm.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "libraries": [
        "<!@(pkg-config --libs openblas 2>/dev/null || echo -lopenblas)",
        "-ldl",
        "-fopenmp"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags_cc": [
        "-O3",
        "-std=c++17",
        "-fno-math-errno",
        "-ffp-contract=off",
        "-fopenmp"
      ],
      "cflags_cc!": [
        "-fno-exceptions"
      ]
    }
  ]
}