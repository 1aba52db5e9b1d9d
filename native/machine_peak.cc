// The CPU's float32 FMA peak, measured: independent chains of fused multiply-adds at the widest vector width
// the CPU has (AVX-512, else AVX2 with FMA, else scalar), on a given number of threads. Enough independent
// accumulators hide the FMA latency (4 cycles on current x86 cores, 2 FMA ports: 8 chains in flight, 12 here),
// so the loop runs at the FMA units' throughput: the physical limit every matrix product is measured against.
#include "machine_peak.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

constexpr int kChains = 12;

// Each kernel runs `iterations` rounds of kChains independent FMAs and returns a value that depends on every
// accumulator (so the compiler cannot drop the work); the caller counts 2 * lanes * kChains flops a round.
__attribute__((target("avx512f"))) float Avx512Kernel(int64_t iterations, float seed) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; i++) acc[i] = _mm512_set1_ps(seed + 0.001f * i);
  const __m512 a = _mm512_set1_ps(0.999999f);
  const __m512 b = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iterations; it++) {
    for (int i = 0; i < kChains; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < kChains; i++) sum = _mm512_add_ps(sum, acc[i]);
  return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx2,fma"))) float Avx2Kernel(int64_t iterations, float seed) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; i++) acc[i] = _mm256_set1_ps(seed + 0.001f * i);
  const __m256 a = _mm256_set1_ps(0.999999f);
  const __m256 b = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iterations; it++) {
    for (int i = 0; i < kChains; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < kChains; i++) sum = _mm256_add_ps(sum, acc[i]);
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  float total = 0;
  for (float v : lanes) total += v;
  return total;
}

float ScalarKernel(int64_t iterations, float seed) {
  volatile float a = 0.999999f;
  float acc[kChains];
  for (int i = 0; i < kChains; i++) acc[i] = seed + 0.001f * i;
  const float av = a;
  for (int64_t it = 0; it < iterations; it++) {
    for (int i = 0; i < kChains; i++) acc[i] = acc[i] * av + 1e-7f;
  }
  float total = 0;
  for (float v : acc) total += v;
  return total;
}

struct Path {
  const char* name;
  int lanes;
  float (*kernel)(int64_t, float);
};

Path WidestPath() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return {"avx512", 16, Avx512Kernel};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {"avx2-fma", 8, Avx2Kernel};
  return {"scalar", 1, ScalarKernel};
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

PeakMeasurement MeasureFmaPeak(int threads, double seconds) {
  const Path path = WidestPath();
  if (threads < 1) threads = 1;
  // calibrate on one thread: rounds that take about a tenth of the budget, at least 1000
  int64_t iterations = 1000;
  for (;;) {
    auto start = std::chrono::steady_clock::now();
    volatile float sink = path.kernel(iterations, 1.0f);
    (void)sink;
    double took = Seconds(start);
    if (took > seconds / 10 || iterations > (int64_t{1} << 40)) break;
    iterations *= took > 0 ? std::max<int64_t>(2, static_cast<int64_t>(seconds / 10 / took)) : 16;
  }
  // every thread runs the same rounds; the best of several repetitions counts (the least disturbed)
  double best = 0;
  const double flopsPerRound = 2.0 * path.lanes * kChains;
  for (int rep = 0; rep < 5; rep++) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> pool;
    std::vector<float> sinks(threads);
    for (int t = 0; t < threads; t++) {
      pool.emplace_back([&, t] {
        ready++;
        while (!go.load()) std::this_thread::yield();
        sinks[t] = path.kernel(iterations, 1.0f + t);
      });
    }
    while (ready.load() < threads) std::this_thread::yield();
    auto start = std::chrono::steady_clock::now();
    go = true;
    for (auto& th : pool) th.join();
    double took = Seconds(start);
    double gflops = flopsPerRound * static_cast<double>(iterations) * threads / took / 1e9;
    if (gflops > best) best = gflops;
  }
  return {best, path.name, path.lanes};
}
