// The CPU's float32 FMA peak, measured (see machine_peak.cc).
#pragma once

struct PeakMeasurement {
  /** Floating-point operations per second over every thread, in GFLOP/s (2 per fused multiply-add). */
  double gflops;
  /** The vector path measured: "avx512", "avx2-fma" or "scalar". */
  const char* path;
  /** float32 lanes of one vector on that path. */
  int lanes;
};

/** Measures the FMA peak on `threads` threads, in about `seconds` (the best of five repetitions). */
PeakMeasurement MeasureFmaPeak(int threads, double seconds);
