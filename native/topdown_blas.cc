// N-API bridge from topdown's `blas` engine to the system OpenBLAS (cblas_* interface).
// Every entry point checks that the views it touches lie inside their Float32Arrays, so a wrong
// offset or leading dimension from JavaScript throws a RangeError instead of corrupting memory.
#include <napi.h>

#include "dnnl_gemm.h"
#include "machine_peak.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <omp.h>
#include <vector>

// The few OpenBLAS entry points used, declared here so that only the shared library (not a particular
// cblas.h location) is needed at build time. Values match the CBLAS standard enums.
extern "C" {
typedef int blasint;
enum { kRowMajor = 101, kNoTrans = 111, kTrans = 112 };
void cblas_sgemm(int order, int trans_a, int trans_b, blasint m, blasint n, blasint k, float alpha, const float* a,
                 blasint lda, const float* b, blasint ldb, float beta, float* c, blasint ldc);
void cblas_sgemv(int order, int trans, blasint m, blasint n, float alpha, const float* a, blasint lda,
                 const float* x, blasint incx, float beta, float* y, blasint incy);
void cblas_saxpy(blasint n, float alpha, const float* x, blasint incx, float* y, blasint incy);
void cblas_sscal(blasint n, float alpha, float* x, blasint incx);
void cblas_sger(int order, blasint m, blasint n, float alpha, const float* x, blasint incx, const float* y,
                blasint incy, float* a, blasint lda);
void cblas_somatcopy(int order, int trans, blasint rows, blasint cols, float alpha, const float* a, blasint lda,
                     float* b, blasint ldb);
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
char* openblas_get_corename(void);
}

namespace {

// The engine's thread count. With oneDNN loaded, every multi-threaded product and sweep runs on one OpenMP
// team (oneDNN's runtime, which this addon shares) and OpenBLAS keeps one thread: two pools spinning for the
// same cores slowed a two-thread PEPITA step 1.6x.
int engine_threads = 1;

// Runs fn(begin, end) over [0, n) split into contiguous parts, one per engine thread, on the OpenMP team. Parts
// depend only on n and the thread count, and every element is computed the same way whatever the split, so
// results do not depend on the thread count.
template <typename Fn>
void ParallelFor(int64_t n, int64_t min_per_thread, Fn fn) {
  int64_t threads = engine_threads;
  if (threads > n / min_per_thread) threads = n / min_per_thread;
  if (threads <= 1) {
    fn(int64_t{0}, n);
    return;
  }
  const int64_t per = (n + threads - 1) / threads;
#pragma omp parallel for num_threads(static_cast<int>(threads)) schedule(static, 1)
  for (int64_t t = 0; t < threads; ++t) {
    const int64_t begin = t * per;
    const int64_t end = begin + per < n ? begin + per : n;
    if (begin < end) fn(begin, end);
  }
}

// Sweeps shorter than this stay on one thread (starting a thread costs tens of microseconds).
constexpr int64_t kParallelElements = 1 << 18;

// A typed array's storage, checked to be of the expected element type.
template <typename T>
struct TypedView {
  T* data;
  size_t length;
};
using F32View = TypedView<float>;
using F64View = TypedView<double>;
using I32View = TypedView<int32_t>;

template <typename T>
bool GetTyped(const Napi::Env& env, const Napi::Value& value, const char* name, napi_typedarray_type expected,
              const char* kind, TypedView<T>* out) {
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value buffer;
  size_t byte_offset;
  if (!value.IsTypedArray() ||
      napi_get_typedarray_info(env, value, &type, &length, &data, &buffer, &byte_offset) != napi_ok ||
      type != expected) {
    Napi::TypeError::New(env, std::string(name) + " must be " + kind).ThrowAsJavaScriptException();
    return false;
  }
  out->data = static_cast<T*>(data);
  out->length = length;
  return true;
}

bool GetF32(const Napi::Env& env, const Napi::Value& value, const char* name, F32View* out) {
  return GetTyped(env, value, name, napi_float32_array, "a Float32Array", out);
}

bool GetF64(const Napi::Env& env, const Napi::Value& value, const char* name, F64View* out) {
  return GetTyped(env, value, name, napi_float64_array, "a Float64Array", out);
}

bool GetI32(const Napi::Env& env, const Napi::Value& value, const char* name, I32View* out) {
  return GetTyped(env, value, name, napi_int32_array, "an Int32Array", out);
}

// Non-negative integer argument (offsets, sizes, leading dimensions).
bool GetIndex(const Napi::Env& env, const Napi::Value& value, const char* name, int64_t* out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok || !(d >= 0) || d > 2147483647.0 || std::floor(d) != d) {
    Napi::RangeError::New(env, std::string(name) + " must be a non-negative integer below 2^31")
        .ThrowAsJavaScriptException();
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}

bool GetScalar(const Napi::Env& env, const Napi::Value& value, const char* name, float* out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok) {
    Napi::TypeError::New(env, std::string(name) + " must be a number").ThrowAsJavaScriptException();
    return false;
  }
  *out = static_cast<float>(d);
  return true;
}

bool GetDouble(const Napi::Env& env, const Napi::Value& value, const char* name, double* out) {
  if (napi_get_value_double(env, value, out) != napi_ok) {
    Napi::TypeError::New(env, std::string(name) + " must be a number").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

bool CheckMatrix(const Napi::Env& env, const char* name, const F32View& view, int64_t offset, int64_t rows,
                 int64_t cols, int64_t ld) {
  if (ld < (cols > 1 ? cols : 1)) {
    Napi::RangeError::New(env, std::string(name) + ": leading dimension smaller than the column count")
        .ThrowAsJavaScriptException();
    return false;
  }
  if (rows > 0 && cols > 0 && offset + (rows - 1) * ld + cols > static_cast<int64_t>(view.length)) {
    Napi::RangeError::New(env, std::string(name) + ": view extends past the end of its Float32Array")
        .ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

// C = alpha op(A) op(B) + beta C where m == 1 or n == 1, via sgemv. With beta == 0, C is cleared first so
// that garbage (NaN) already in it never leaks into the result, as BLAS promises for gemm.
void GemvShaped(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const blasint bk = static_cast<blasint>(k);
  if (m == 1) {
    // c[j] = sum_p op(A)[0,p] op(B)[p,j]: op(B)^T times the row of A. The row of op(A) has stride lda if A is
    // stored transposed (a k x 1 column), else 1. C's row is contiguous.
    const blasint inc_a = trans_a ? static_cast<blasint>(lda) : 1;
    if (beta == 0.0f) std::memset(c, 0, sizeof(float) * static_cast<size_t>(n));
    if (trans_b) {  // B stored n x k
      cblas_sgemv(kRowMajor, kNoTrans, static_cast<blasint>(n), bk, alpha, b, static_cast<blasint>(ldb), a, inc_a,
                  beta, c, 1);
    } else {  // B stored k x n
      cblas_sgemv(kRowMajor, kTrans, bk, static_cast<blasint>(n), alpha, b, static_cast<blasint>(ldb), a, inc_a,
                  beta, c, 1);
    }
    return;
  }
  // n == 1: c[i] = sum_p op(A)[i,p] op(B)[p,0]; C's column has stride ldc, op(B)'s column stride 1 if B is
  // stored transposed (a 1 x k row), else ldb.
  const blasint inc_b = trans_b ? 1 : static_cast<blasint>(ldb);
  const blasint inc_c = static_cast<blasint>(ldc);
  if (beta == 0.0f) {
    for (int64_t i = 0; i < m; ++i) c[i * ldc] = 0.0f;
  }
  if (trans_a) {  // A stored k x m
    cblas_sgemv(kRowMajor, kTrans, bk, static_cast<blasint>(m), alpha, a, static_cast<blasint>(lda), b, inc_b, beta,
                c, inc_c);
  } else {  // A stored m x k
    cblas_sgemv(kRowMajor, kNoTrans, static_cast<blasint>(m), bk, alpha, a, static_cast<blasint>(lda), b, inc_b,
                beta, c, inc_c);
  }
}

// Which products go to oneDNN (when it is loaded): op(A) B with at least 2^21 multiply-adds or no dimension
// under 32. Measured on a Zen 4 (AVX-512): oneDNN makes 1024x64x3072 TN at 80-82% of the FMA peak against
// OpenBLAS's 67-69%, and the skinny products of conv layers and output layers (28800x32x25, 64x10x3072) about
// twice as fast; smaller products lose to its call overhead. With beta != 0 (the momentum folded into the
// weight-gradient product) C is read as well as written, and on one thread OpenBLAS does that better (5.0 ms
// against 7.1 at 1024x64x3072); on more, oneDNN (2.6 against 2.8).
bool UseDnnl(int64_t m, int64_t n, int64_t k, float beta) {
  if (!DnnlActive()) return false;
  if (std::min(m, std::min(n, k)) < 32 && m * n * k < (int64_t{1} << 21)) return false;
  return beta == 0.0f || engine_threads > 1;
}

// op(A) B^T runs slowly in both libraries (OpenBLAS packs B from its transposed layout at 56-60% of the peak;
// oneDNN runs it on one thread), so it goes to oneDNN as a plain product after the cheaper of two transposes:
// B's own (n * k moves) when B is the small side (an output layer, a conv layer's filters), else the whole
// product's, C^T = B op(A)^T (op(A) and the result: m * (k + n) moves) when A has few rows (a forward x W^T, W
// stored out x in); at n, k >= 1024 against batch 64 the moves cost about 3% of the multiply-adds.
bool TransposeBFirst(bool trans_a, int64_t m, int64_t n, int64_t k) {
  return n * k <= m * ((trans_a ? 0 : k) + n);
}

// Scratch reused across calls (grown, never shrunk), so a training step allocates nothing after the first.
float* Scratch(int which, int64_t size) {
  thread_local std::vector<float> buffers[2];
  std::vector<float>& buffer = buffers[which];
  if (buffer.size() < static_cast<size_t>(size)) buffer.resize(static_cast<size_t>(size));
  return buffer.data();
}

// C = alpha op(A) B^T + beta C computed as (B op(A)^T)^T (see TransposeBFirst); false when oneDNN refused.
bool TransposedProduct(bool trans_a, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                       const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const float* at = a;  // op(A)^T, k x m
  int64_t ldat = lda;
  if (!trans_a) {
    float* buffer = Scratch(0, k * m);
    cblas_somatcopy(kRowMajor, kTrans, static_cast<blasint>(m), static_cast<blasint>(k), 1.0f, a,
                    static_cast<blasint>(lda), buffer, static_cast<blasint>(m));
    at = buffer;
    ldat = m;
  }
  float* product = Scratch(1, n * m);  // n x m
  if (!DnnlSgemm(false, false, n, m, k, alpha, b, ldb, at, ldat, 0.0f, product, m)) return false;
  if (beta == 0.0f) {
    // overwrites C, so NaN already there does not leak
    cblas_somatcopy(kRowMajor, kTrans, static_cast<blasint>(n), static_cast<blasint>(m), 1.0f, product,
                    static_cast<blasint>(m), c, static_cast<blasint>(ldc));
    return true;
  }
  // C = beta C + product^T, in tiles that keep both sides in cache (rows of 16 of C against columns of product)
  constexpr int64_t kTile = 16;
  ParallelFor(m, kTile, [=](int64_t begin, int64_t end) {
    for (int64_t j0 = 0; j0 < n; j0 += kTile) {
      const int64_t j1 = std::min(n, j0 + kTile);
      for (int64_t i0 = begin; i0 < end; i0 += kTile) {
        const int64_t i1 = std::min(end, i0 + kTile);
        for (int64_t j = j0; j < j1; ++j) {
          const float* column = product + j * m;
          for (int64_t i = i0; i < i1; ++i) c[i * ldc + j] = beta * c[i * ldc + j] + column[i];
        }
      }
    }
  });
  return true;
}

// sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc)
// C = alpha * op(A) * op(B) + beta * C, row-major.
void Sgemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 16) {
    Napi::TypeError::New(env, "sgemm expects 16 arguments").ThrowAsJavaScriptException();
    return;
  }
  const bool trans_a = info[0].ToBoolean().Value();
  const bool trans_b = info[1].ToBoolean().Value();
  int64_t m, n, k, a_off, lda, b_off, ldb, c_off, ldc;
  float alpha, beta;
  F32View a, b, c;
  if (!GetIndex(env, info[2], "m", &m) || !GetIndex(env, info[3], "n", &n) || !GetIndex(env, info[4], "k", &k) ||
      !GetScalar(env, info[5], "alpha", &alpha) || !GetF32(env, info[6], "A", &a) ||
      !GetIndex(env, info[7], "aOffset", &a_off) || !GetIndex(env, info[8], "lda", &lda) ||
      !GetF32(env, info[9], "B", &b) || !GetIndex(env, info[10], "bOffset", &b_off) ||
      !GetIndex(env, info[11], "ldb", &ldb) || !GetScalar(env, info[12], "beta", &beta) ||
      !GetF32(env, info[13], "C", &c) || !GetIndex(env, info[14], "cOffset", &c_off) ||
      !GetIndex(env, info[15], "ldc", &ldc)) {
    return;
  }
  if (!CheckMatrix(env, "A", a, a_off, trans_a ? k : m, trans_a ? m : k, lda) ||
      !CheckMatrix(env, "B", b, b_off, trans_b ? n : k, trans_b ? k : n, ldb) ||
      !CheckMatrix(env, "C", c, c_off, m, n, ldc)) {
    return;
  }
  if (m == 0 || n == 0) return;
  if (k > 0 && (m == 1 || n == 1)) {
    // A single row or column of C is a matrix-vector product; OpenBLAS 0.3.21's sgemm does not forward
    // these to sgemv itself and runs them about 1.7x slower.
    GemvShaped(trans_a, trans_b, m, n, k, alpha, a.data + a_off, lda, b.data + b_off, ldb, beta, c.data + c_off, ldc);
    return;
  }
  const float* pa = a.data + a_off;
  const float* pb = b.data + b_off;
  float* pc = c.data + c_off;
  // oneDNN where it beats OpenBLAS (see UseDnnl and TransposeBFirst): 75-89% of the FMA peak, OpenBLAS 56-71%
  if (UseDnnl(m, n, k, beta)) {
    if (!trans_b) {
      if (DnnlSgemm(trans_a, false, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc)) return;
    } else if (TransposeBFirst(trans_a, m, n, k)) {
      float* bt = Scratch(0, k * n);
      cblas_somatcopy(kRowMajor, kTrans, static_cast<blasint>(n), static_cast<blasint>(k), 1.0f, pb,
                      static_cast<blasint>(ldb), bt, static_cast<blasint>(n));
      if (DnnlSgemm(trans_a, false, m, n, k, alpha, pa, lda, bt, n, beta, pc, ldc)) return;
    } else if (TransposedProduct(trans_a, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc)) {
      return;
    }
  }
  cblas_sgemm(kRowMajor, trans_a ? kTrans : kNoTrans, trans_b ? kTrans : kNoTrans,
              static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a.data + a_off,
              static_cast<blasint>(lda), b.data + b_off, static_cast<blasint>(ldb), beta, c.data + c_off,
              static_cast<blasint>(ldc));
}

bool CheckVector(const Napi::Env& env, const char* name, const F32View& view, int64_t offset, int64_t n) {
  if (offset + n > static_cast<int64_t>(view.length)) {
    Napi::RangeError::New(env, std::string(name) + ": range extends past the end of its Float32Array")
        .ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

// saxpy(n, alpha, x, xOff, y, yOff): y += alpha * x
void Saxpy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t n, x_off, y_off;
  float alpha;
  F32View x, y;
  if (info.Length() != 6 || !GetIndex(env, info[0], "n", &n) || !GetScalar(env, info[1], "alpha", &alpha) ||
      !GetF32(env, info[2], "x", &x) || !GetIndex(env, info[3], "xOffset", &x_off) ||
      !GetF32(env, info[4], "y", &y) || !GetIndex(env, info[5], "yOffset", &y_off)) {
    if (!env.IsExceptionPending()) Napi::TypeError::New(env, "saxpy expects 6 arguments").ThrowAsJavaScriptException();
    return;
  }
  if (!CheckVector(env, "x", x, x_off, n) || !CheckVector(env, "y", y, y_off, n)) return;
  if (n > 0) cblas_saxpy(static_cast<blasint>(n), alpha, x.data + x_off, 1, y.data + y_off, 1);
}

// sscal(n, alpha, x, xOff): x *= alpha. alpha == 0 writes exact zeros (BLAS leaves NaN * 0 unspecified).
void Sscal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t n, x_off;
  float alpha;
  F32View x;
  if (info.Length() != 4 || !GetIndex(env, info[0], "n", &n) || !GetScalar(env, info[1], "alpha", &alpha) ||
      !GetF32(env, info[2], "x", &x) || !GetIndex(env, info[3], "xOffset", &x_off)) {
    if (!env.IsExceptionPending()) Napi::TypeError::New(env, "sscal expects 4 arguments").ThrowAsJavaScriptException();
    return;
  }
  if (!CheckVector(env, "x", x, x_off, n) || n == 0) return;
  cblas_sscal(static_cast<blasint>(n), alpha, x.data + x_off, 1);
}

// sger(m, n, alpha, x, xOff, y, yOff, a, aOff, lda): A += alpha * x y^T
void Sger(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t m, n, x_off, y_off, a_off, lda;
  float alpha;
  F32View x, y, a;
  if (info.Length() != 10 || !GetIndex(env, info[0], "m", &m) || !GetIndex(env, info[1], "n", &n) ||
      !GetScalar(env, info[2], "alpha", &alpha) || !GetF32(env, info[3], "x", &x) ||
      !GetIndex(env, info[4], "xOffset", &x_off) || !GetF32(env, info[5], "y", &y) ||
      !GetIndex(env, info[6], "yOffset", &y_off) || !GetF32(env, info[7], "A", &a) ||
      !GetIndex(env, info[8], "aOffset", &a_off) || !GetIndex(env, info[9], "lda", &lda)) {
    if (!env.IsExceptionPending()) Napi::TypeError::New(env, "sger expects 10 arguments").ThrowAsJavaScriptException();
    return;
  }
  if (!CheckVector(env, "x", x, x_off, m) || !CheckVector(env, "y", y, y_off, n) ||
      !CheckMatrix(env, "A", a, a_off, m, n, lda) || m == 0 || n == 0) {
    return;
  }
  cblas_sger(kRowMajor, static_cast<blasint>(m), static_cast<blasint>(n), alpha, x.data + x_off, 1,
             y.data + y_off, 1, a.data + a_off, static_cast<blasint>(lda));
}

// The SGD step's sweep over a parameter and its update buffer: v += wd * w; w -= lr * v. Memory-bound, so
// one pass instead of two axpys (without decay v is only read); compiled for AVX-512, AVX2 and baseline,
// picked at load time; split over the threads for large parameters.
__attribute__((target_clones("avx512f", "avx2", "default"))) void SgdSweepPart(float* w, float* v, float lr,
                                                                                    float wd, int64_t begin,
                                                                                    int64_t end) {
  if (wd == 0.0f) {
    for (int64_t i = begin; i < end; ++i) w[i] -= lr * v[i];
    return;
  }
  for (int64_t i = begin; i < end; ++i) {
    const float vi = v[i] + wd * w[i];
    v[i] = vi;
    w[i] -= lr * vi;
  }
}

void SgdSweep(int64_t n, float* w, float* v, float lr, float wd) {
  ParallelFor(n, kParallelElements, [=](int64_t begin, int64_t end) { SgdSweepPart(w, v, lr, wd, begin, end); });
}

// sgdUpdate(n, w, wOff, v, vOff, lr, weightDecay)
void SgdUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t n, w_off, v_off;
  float lr, wd;
  F32View w, v;
  if (info.Length() != 7 || !GetIndex(env, info[0], "n", &n) || !GetF32(env, info[1], "w", &w) ||
      !GetIndex(env, info[2], "wOffset", &w_off) || !GetF32(env, info[3], "v", &v) ||
      !GetIndex(env, info[4], "vOffset", &v_off) || !GetScalar(env, info[5], "lr", &lr) ||
      !GetScalar(env, info[6], "weightDecay", &wd)) {
    if (!env.IsExceptionPending()) Napi::TypeError::New(env, "sgdUpdate expects 7 arguments").ThrowAsJavaScriptException();
    return;
  }
  if (!CheckVector(env, "w", w, w_off, n) || !CheckVector(env, "v", v, v_off, n)) return;
  SgdSweep(n, w.data + w_off, v.data + v_off, lr, wd);
}

// The difference of two ReLU activities from their pre-activations: out = a (a > 0) - b (b > 0), each
// operation one float32 operation as the TypeScript loop's, so the same bits (PEPITA's conv activity
// difference: two reads and a write of every position, memory-bound, so vectorised and split over threads).
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=off"))) void ReluDifferencePart(
    const float* a, const float* b, float* out, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const float u = a[i];
    const float v = b[i];
    out[i] = u * static_cast<float>(u > 0.0f) - v * static_cast<float>(v > 0.0f);
  }
}

// reluDifference(n, a, aOff, b, bOff, out, outOff)
void ReluDifference(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t n, a_off, b_off, o_off;
  F32View a, b, out;
  if (info.Length() != 7 || !GetIndex(env, info[0], "n", &n) || !GetF32(env, info[1], "a", &a) ||
      !GetIndex(env, info[2], "aOffset", &a_off) || !GetF32(env, info[3], "b", &b) ||
      !GetIndex(env, info[4], "bOffset", &b_off) || !GetF32(env, info[5], "out", &out) ||
      !GetIndex(env, info[6], "outOffset", &o_off)) {
    if (!env.IsExceptionPending()) Napi::TypeError::New(env, "reluDifference expects 7 arguments").ThrowAsJavaScriptException();
    return;
  }
  if (!CheckVector(env, "a", a, a_off, n) || !CheckVector(env, "b", b, b_off, n) ||
      !CheckVector(env, "out", out, o_off, n))
    return;
  const float* ad = a.data + a_off;
  const float* bd = b.data + b_off;
  float* od = out.data + o_off;
  ParallelFor(n, kParallelElements, [=](int64_t begin, int64_t end) { ReluDifferencePart(ad, bd, od, begin, end); });
}

// Adam's sweep (torch.optim.Adam) in float32, as PyTorch computes it: g' = g + wd p; m = b1 m + (1 - b1) g';
// v = b2 v + ((1 - b2) g') g'; p -= (step_size m) / (sqrt(v) inv_bc2_sqrt + eps). Every operation is one
// correctly rounded float32 operation (no FMA contraction), so the TypeScript sweep, which rounds each step
// with Math.fround, gives the same bits. Vectorised (AVX-512, AVX2 or baseline) and split over the threads.
__attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=off"))) void AdamRows(
    int64_t row_begin, int64_t row_end, int64_t cols, float* p, int64_t p_stride, const float* g, float* m,
    float* v, float beta1, float beta2, float wd, float eps, float step_size, float inv_bc2_sqrt, float c1,
    float c2) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    float* pr = p + r * p_stride;
    const int64_t o = r * cols;
    const float* gr = g + o;
    float* mr = m + o;
    float* vr = v + o;
    for (int64_t j = 0; j < cols; ++j) {
      const float pk = pr[j];
      const float gk = gr[j] + wd * pk;
      const float mk = beta1 * mr[j] + c1 * gk;
      const float vk = beta2 * vr[j] + (c2 * gk) * gk;
      mr[j] = mk;
      vr[j] = vk;
      pr[j] = pk - (step_size * mk) / (__builtin_sqrtf(vk) * inv_bc2_sqrt + eps);
    }
  }
}

// The scalars arrive as doubles: 1 - beta is formed in double and then rounded, as PyTorch passes it.
void AdamSweep(int64_t rows, int64_t cols, float* p, int64_t p_stride, const float* g, float* m, float* v,
               double beta1_d, double beta2_d, double wd_d, double eps_d, double step_size_d,
               double inv_bc2_sqrt_d) {
  const float beta1 = static_cast<float>(beta1_d);
  const float beta2 = static_cast<float>(beta2_d);
  const float wd = static_cast<float>(wd_d);
  const float eps = static_cast<float>(eps_d);
  const float step_size = static_cast<float>(step_size_d);
  const float inv_bc2_sqrt = static_cast<float>(inv_bc2_sqrt_d);
  const float c1 = static_cast<float>(1.0 - beta1_d);
  const float c2 = static_cast<float>(1.0 - beta2_d);
  // split by rows (a row of a strided view is contiguous); by elements when there is a single row
  if (rows == 1 || p_stride == cols) {
    const int64_t n = rows * cols;
    ParallelFor(n, kParallelElements, [=](int64_t begin, int64_t end) {
      AdamRows(0, 1, end - begin, p + begin, 0, g + begin, m + begin, v + begin, beta1, beta2, wd, eps, step_size,
               inv_bc2_sqrt, c1, c2);
    });
    return;
  }
  const int64_t min_rows = cols > 0 ? (kParallelElements + cols - 1) / cols : rows;
  ParallelFor(rows, min_rows > 0 ? min_rows : 1, [=](int64_t begin, int64_t end) {
    AdamRows(begin, end, cols, p, p_stride, g, m, v, beta1, beta2, wd, eps, step_size, inv_bc2_sqrt, c1, c2);
  });
}

// adamUpdate(rows, cols, p, pOff, pStride, g, m, v, beta1, beta2, weightDecay, eps, stepSize, invBc2Sqrt)
void AdamUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t rows, cols, p_off, p_stride;
  F32View p, g, m, v;
  double s[6];
  const char* names[6] = {"beta1", "beta2", "weightDecay", "eps", "stepSize", "invBc2Sqrt"};
  bool ok = info.Length() == 14 && GetIndex(env, info[0], "rows", &rows) && GetIndex(env, info[1], "cols", &cols) &&
            GetF32(env, info[2], "p", &p) && GetIndex(env, info[3], "pOffset", &p_off) &&
            GetIndex(env, info[4], "pStride", &p_stride) && GetF32(env, info[5], "g", &g) &&
            GetF32(env, info[6], "m", &m) && GetF32(env, info[7], "v", &v);
  for (int i = 0; ok && i < 6; ++i) ok = GetDouble(env, info[8 + i], names[i], &s[i]);
  if (!ok) {
    if (!env.IsExceptionPending()) Napi::TypeError::New(env, "adamUpdate expects 14 arguments").ThrowAsJavaScriptException();
    return;
  }
  if (!CheckMatrix(env, "p", p, p_off, rows, cols, p_stride) || !CheckVector(env, "g", g, 0, rows * cols) ||
      !CheckVector(env, "m", m, 0, rows * cols) || !CheckVector(env, "v", v, 0, rows * cols))
    return;
  AdamSweep(rows, cols, p.data + p_off, p_stride, g.data, m.data, v.data, s[0], s[1], s[2], s[3], s[4], s[5]);
}

// Rows of a hidden layer with relu and per-sample length normalisation (Forward-Forward's layers):
// g = relu(a); squares[r] = sum_j g_rj^2 (float64, four partial sums); norms[r] = sqrt(squares[r]);
// h = g * target / max(norm, floor). Split over the threads by rows.
typedef double v4d __attribute__((vector_size(32)));

__attribute__((target_clones("avx512f", "avx2", "default"))) void ReluNormalizePart(
    int64_t r0, int64_t r1, int64_t d, const float* a, float* g, float* h, double target, double floor,
    double* norms, double* squares) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* ar = a + r * d;
    float* gr = g + r * d;
    float* hr = h + r * d;
    v4d acc = {0, 0, 0, 0};
    int64_t j = 0;
    for (; j + 4 <= d; j += 4) {
      v4d x;
      for (int t = 0; t < 4; ++t) {
        const float v = ar[j + t] < 0.0f ? 0.0f : ar[j + t];
        gr[j + t] = v;
        x[t] = v;
      }
      acc += x * x;
    }
    double s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (; j < d; ++j) {
      const float v = ar[j] < 0.0f ? 0.0f : ar[j];
      gr[j] = v;
      s += static_cast<double>(v) * v;
    }
    const double norm = std::sqrt(s);
    squares[r] = s;
    norms[r] = norm;
    const double inv = target / (norm > floor ? norm : floor);
    for (int64_t k = 0; k < d; ++k) hr[k] = static_cast<float>(gr[k] * inv);
  }
}

// reluNormalizeRows(rows, d, a, g, h, target, floor, norms, squares)
void ReluNormalizeRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t rows, d;
  F32View a, g, h;
  F64View norms, squares;
  double target, floor;
  if (info.Length() != 9 || !GetIndex(env, info[0], "rows", &rows) || !GetIndex(env, info[1], "d", &d) ||
      !GetF32(env, info[2], "a", &a) || !GetF32(env, info[3], "g", &g) || !GetF32(env, info[4], "h", &h) ||
      !GetDouble(env, info[5], "target", &target) || !GetDouble(env, info[6], "floor", &floor) ||
      !GetF64(env, info[7], "norms", &norms) || !GetF64(env, info[8], "squares", &squares)) {
    if (!env.IsExceptionPending())
      Napi::TypeError::New(env, "reluNormalizeRows expects 9 arguments").ThrowAsJavaScriptException();
    return;
  }
  if (!CheckVector(env, "a", a, 0, rows * d) || !CheckVector(env, "g", g, 0, rows * d) ||
      !CheckVector(env, "h", h, 0, rows * d))
    return;
  if (static_cast<int64_t>(norms.length) < rows || static_cast<int64_t>(squares.length) < rows) {
    Napi::RangeError::New(env, "norms and squares need one entry per row").ThrowAsJavaScriptException();
    return;
  }
  const int64_t min_rows = kParallelElements / (d > 0 ? d : 1) + 1;
  ParallelFor(rows, min_rows, [=](int64_t begin, int64_t end) {
    ReluNormalizePart(begin, end, d, a.data, g.data, h.data, target, floor, norms.data, squares.data);
  });
}

// A convolution's patches of one image (C x H x W from x) into cols: row (c k + i) k + j, column
// oy ow + ox holds x[c][oy s + i - p][ox s + j - p], 0 outside the image; rows ld apart. Pure copies, so it
// gives the TypeScript version's bits.
void Im2colImage(const float* x, float* cols, int64_t ld, int64_t C, int64_t H, int64_t W, int64_t K,
                 int64_t S, int64_t P, int64_t oh, int64_t ow) {
  float* row = cols;
  for (int64_t c = 0; c < C; ++c) {
    const float* plane = x + c * H * W;
    for (int64_t i = 0; i < K; ++i) {
      for (int64_t j = 0; j < K; ++j, row += ld) {
        // output columns whose input column ox s + j - p lies inside the image: [lo, hi)
        int64_t lo = P - j > 0 ? (P - j + S - 1) / S : 0;
        if (lo > ow) lo = ow;
        int64_t last = W - 1 + P - j;
        int64_t hi = last >= 0 ? last / S + 1 : 0;
        if (hi > ow) hi = ow;
        if (hi < lo) hi = lo;
        for (int64_t oy = 0; oy < oh; ++oy) {
          float* dst = row + oy * ow;
          const int64_t y = oy * S + i - P;
          if (y < 0 || y >= H) {
            std::fill(dst, dst + ow, 0.0f);
            continue;
          }
          std::fill(dst, dst + lo, 0.0f);
          std::fill(dst + hi, dst + ow, 0.0f);
          const float* src = plane + y * W + j - P;
          if (S == 1) {
            std::copy(src + lo, src + hi, dst + lo);
          } else {
            for (int64_t ox = lo; ox < hi; ++ox) dst[ox] = src[ox * S];
          }
        }
      }
    }
  }
}

// im2colRows(channels, height, width, kernel, stride, padding, n, x, xOff, xStride, cols, ld): the patches
// of n images side by side, image s's in columns [s P, (s + 1) P); split over the threads by images.
void Im2colRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t C, H, W, K, S, P, n, x_off, x_stride, ld;
  F32View x, cols;
  if (info.Length() != 12 || !GetIndex(env, info[0], "channels", &C) || !GetIndex(env, info[1], "height", &H) ||
      !GetIndex(env, info[2], "width", &W) || !GetIndex(env, info[3], "kernel", &K) ||
      !GetIndex(env, info[4], "stride", &S) || !GetIndex(env, info[5], "padding", &P) ||
      !GetIndex(env, info[6], "n", &n) || !GetF32(env, info[7], "x", &x) ||
      !GetIndex(env, info[8], "xOff", &x_off) || !GetIndex(env, info[9], "xStride", &x_stride) ||
      !GetF32(env, info[10], "cols", &cols) || !GetIndex(env, info[11], "ld", &ld)) {
    if (!env.IsExceptionPending()) Napi::TypeError::New(env, "im2colRows expects 12 arguments").ThrowAsJavaScriptException();
    return;
  }
  if (C < 1 || K < 1 || S < 1 || H + 2 * P < K || W + 2 * P < K) {
    Napi::RangeError::New(env, "im2colRows: the kernel does not fit the image").ThrowAsJavaScriptException();
    return;
  }
  const int64_t oh = (H + 2 * P - K) / S + 1;
  const int64_t ow = (W + 2 * P - K) / S + 1;
  const int64_t positions = oh * ow;
  if (n == 0) return;
  if (ld < n * positions || !CheckVector(env, "x", x, x_off, (n - 1) * x_stride + C * H * W) ||
      !CheckVector(env, "cols", cols, 0, (C * K * K - 1) * ld + n * positions)) {
    if (!env.IsExceptionPending()) Napi::RangeError::New(env, "im2colRows: ld is shorter than n positions").ThrowAsJavaScriptException();
    return;
  }
  const float* xd = x.data + x_off;
  float* cd = cols.data;
  ParallelFor(n, kParallelElements / (C * K * K * positions) + 1, [=](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; ++s) Im2colImage(xd + s * x_stride, cd + s * positions, ld, C, H, W, K, S, P, oh, ow);
  });
}

// 2x2 max-pooling of one C x H x W image into out (C x H/2 x W/2) and each maximum's index in argmax: the
// first maximum in row-by-row order wins, NaN wins. 32-bit indices, row pointers and selects on values held in
// registers: the form the compiler vectorises (64-bit index arithmetic and loads whose address waited on a
// comparison made it about 15x slower). noinline: inlined into MaxPool2Rows, GCC turned the selects back into
// branches and did not vectorise.
__attribute__((noinline)) void MaxPool2Image(const float* x, float* out, int32_t* argmax, int32_t C, int32_t H, int32_t W) {
  const int32_t oh = H / 2;
  const int32_t ow = W / 2;
  for (int32_t c = 0; c < C; ++c) {
    for (int32_t oy = 0; oy < oh; ++oy) {
      const int32_t row = c * H * W + 2 * oy * W;
      const float* r0 = x + row;
      const float* r1 = r0 + W;
      float* orow = out + (c * oh + oy) * ow;
      int32_t* arow = argmax + (c * oh + oy) * ow;
      for (int32_t ox = 0; ox < ow; ++ox) {
        const float v0 = r0[2 * ox], v1 = r0[2 * ox + 1], v2 = r1[2 * ox], v3 = r1[2 * ox + 1];
        const int32_t k0 = row + 2 * ox;
        const bool c1 = (v1 > v0) | (v1 != v1);
        float m = c1 ? v1 : v0;
        int32_t best = c1 ? k0 + 1 : k0;
        const bool c2 = (v2 > m) | (v2 != v2);
        m = c2 ? v2 : m;
        best = c2 ? k0 + W : best;
        const bool c3 = (v3 > m) | (v3 != v3);
        m = c3 ? v3 : m;
        best = c3 ? k0 + W + 1 : best;
        orow[ox] = m;
        arow[ox] = best;
      }
    }
  }
}

// maxPool2Rows(channels, height, width, n, x, xOff, xStride, out, outOff, outStride, argmax, argOff): PyTorch's
// MaxPool2d(2) of n image rows (odd edges dropped; the first maximum in row-by-row order wins, NaN wins),
// each maximum's index within its input row in argmax. Selections only: the TypeScript version's bits.
void MaxPool2Rows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t C, H, W, n, x_off, x_stride, o_off, o_stride, a_off;
  F32View x, out;
  I32View argmax;
  if (info.Length() != 12 || !GetIndex(env, info[0], "channels", &C) || !GetIndex(env, info[1], "height", &H) ||
      !GetIndex(env, info[2], "width", &W) || !GetIndex(env, info[3], "n", &n) || !GetF32(env, info[4], "x", &x) ||
      !GetIndex(env, info[5], "xOff", &x_off) || !GetIndex(env, info[6], "xStride", &x_stride) ||
      !GetF32(env, info[7], "out", &out) || !GetIndex(env, info[8], "outOff", &o_off) ||
      !GetIndex(env, info[9], "outStride", &o_stride) || !GetI32(env, info[10], "argmax", &argmax) ||
      !GetIndex(env, info[11], "argOff", &a_off)) {
    if (!env.IsExceptionPending()) Napi::TypeError::New(env, "maxPool2Rows expects 12 arguments").ThrowAsJavaScriptException();
    return;
  }
  const int64_t oh = H / 2;
  const int64_t ow = W / 2;
  const int64_t per = C * oh * ow;
  if (n == 0 || per == 0) return;
  if (!CheckVector(env, "x", x, x_off, (n - 1) * x_stride + C * H * W) ||
      !CheckVector(env, "out", out, o_off, (n - 1) * o_stride + per))
    return;
  if (a_off + n * per > static_cast<int64_t>(argmax.length)) {
    Napi::RangeError::New(env, "argmax: range extends past the end of its Int32Array").ThrowAsJavaScriptException();
    return;
  }
  const float* xd = x.data + x_off;
  float* od = out.data + o_off;
  int32_t* ad = argmax.data + a_off;
  ParallelFor(n, kParallelElements / (C * H * W) + 1, [=](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; ++s) {
      const float* xs = xd + s * x_stride;
      float* os = od + s * o_stride;
      int32_t* as = ad + s * per;
      MaxPool2Image(xs, os, as, static_cast<int32_t>(C), static_cast<int32_t>(H), static_cast<int32_t>(W));
    }
  });
}

// regroupMaps(toMaps, n, filters, positions, rows, rowsOff, rowsStride, maps): a batch's conv maps between its
// rows (sample s's filters x positions values from rowsOff + s rowsStride) and the product's layout (filters x
// (n positions)); toMaps gathers into maps, else scatters back into the rows. Copies only.
void RegroupMaps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t n, filters, P, r_off, r_stride;
  F32View rows, maps;
  if (info.Length() != 8 || !info[0].IsBoolean() || !GetIndex(env, info[1], "n", &n) ||
      !GetIndex(env, info[2], "filters", &filters) || !GetIndex(env, info[3], "positions", &P) ||
      !GetF32(env, info[4], "rows", &rows) || !GetIndex(env, info[5], "rowsOff", &r_off) ||
      !GetIndex(env, info[6], "rowsStride", &r_stride) || !GetF32(env, info[7], "maps", &maps)) {
    if (!env.IsExceptionPending()) Napi::TypeError::New(env, "regroupMaps expects 8 arguments").ThrowAsJavaScriptException();
    return;
  }
  const bool to_maps = info[0].As<Napi::Boolean>().Value();
  if (n == 0 || filters == 0 || P == 0) return;
  if (r_stride < filters * P) {
    Napi::RangeError::New(env, "rowsStride is smaller than filters x positions").ThrowAsJavaScriptException();
    return;
  }
  if (!CheckVector(env, "rows", rows, r_off, (n - 1) * r_stride + filters * P) ||
      !CheckVector(env, "maps", maps, 0, n * filters * P))
    return;
  float* rd = rows.data + r_off;
  float* md = maps.data;
  ParallelFor(filters, kParallelElements / (n * P) + 1, [=](int64_t begin, int64_t end) {
    for (int64_t f = begin; f < end; ++f) {
      for (int64_t s = 0; s < n; ++s) {
        float* row = rd + s * r_stride + f * P;
        float* block = md + (f * n + s) * P;
        if (to_maps) std::memcpy(block, row, sizeof(float) * static_cast<size_t>(P));
        else std::memcpy(row, block, sizeof(float) * static_cast<size_t>(P));
      }
    }
  });
}

// maxPool2Backward(n, inFeatures, outFeatures, dy, dyOff, dyStride, dx, dxOff, dxStride, argmax): each pooled
// gradient to where its maximum was (argmax: outFeatures per row from 0, each inside [0, inFeatures)), 0
// elsewhere. An assignment plus 0, as the TypeScript version (which turns -0 into +0).
void MaxPool2Backward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t n, in_f, out_f, g_off, g_stride, d_off, d_stride;
  F32View dy, dx;
  I32View argmax;
  if (info.Length() != 10 || !GetIndex(env, info[0], "n", &n) || !GetIndex(env, info[1], "inFeatures", &in_f) ||
      !GetIndex(env, info[2], "outFeatures", &out_f) || !GetF32(env, info[3], "dy", &dy) ||
      !GetIndex(env, info[4], "dyOff", &g_off) || !GetIndex(env, info[5], "dyStride", &g_stride) ||
      !GetF32(env, info[6], "dx", &dx) || !GetIndex(env, info[7], "dxOff", &d_off) ||
      !GetIndex(env, info[8], "dxStride", &d_stride) || !GetI32(env, info[9], "argmax", &argmax)) {
    if (!env.IsExceptionPending()) Napi::TypeError::New(env, "maxPool2Backward expects 10 arguments").ThrowAsJavaScriptException();
    return;
  }
  if (n == 0 || in_f == 0) return;
  if (!CheckVector(env, "dy", dy, g_off, (n - 1) * g_stride + out_f) ||
      !CheckVector(env, "dx", dx, d_off, (n - 1) * d_stride + in_f))
    return;
  if (n * out_f > static_cast<int64_t>(argmax.length)) {
    Napi::RangeError::New(env, "argmax: range extends past the end of its Int32Array").ThrowAsJavaScriptException();
    return;
  }
  const int32_t* ad = argmax.data;
  for (int64_t i = 0; i < n * out_f; ++i) {
    if (ad[i] < 0 || ad[i] >= in_f) {
      Napi::RangeError::New(env, "argmax: an index outside its input row").ThrowAsJavaScriptException();
      return;
    }
  }
  const float* gd = dy.data + g_off;
  float* xd = dx.data + d_off;
  ParallelFor(n, kParallelElements / (in_f + out_f) + 1, [=](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; ++s) {
      float* row = xd + s * d_stride;
      std::memset(row, 0, sizeof(float) * static_cast<size_t>(in_f));
      const float* g = gd + s * g_stride;
      const int32_t* a = ad + s * out_f;
      for (int64_t o = 0; o < out_f; ++o) row[a[o]] = g[o] + 0.0f;
    }
  });
}

// One pool: OpenBLAS's threads when it runs the products alone, else the OpenMP team (see engine_threads).
// The team is started here with the asynchronous signals blocked, which its threads inherit, so that no signal
// is ever handled inside oneDNN's kernels on them (see SignalsBlocked).
void ApplyThreads() {
  openblas_set_num_threads(DnnlActive() ? 1 : engine_threads);
  omp_set_num_threads(engine_threads);
  DnnlSetThreads(engine_threads);
  SignalsBlocked blocked;
#pragma omp parallel num_threads(engine_threads)
  {
  }
}

void SetThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t threads;
  if (info.Length() != 1 || !GetIndex(env, info[0], "threads", &threads) || threads < 1) {
    if (!env.IsExceptionPending()) Napi::RangeError::New(env, "threads must be a positive integer").ThrowAsJavaScriptException();
    return;
  }
  engine_threads = static_cast<int>(threads);
  ApplyThreads();
}

// gemmSetup(allowDnnl) -> { dnnl: version | null, why }: loads oneDNN for the products it makes faster (or
// not, and why); the products go to OpenBLAS alone until this is called.
Napi::Value GemmSetup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsBoolean()) {
    Napi::TypeError::New(env, "gemmSetup(allowDnnl)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string why;
  std::string version = DnnlSetup(info[0].As<Napi::Boolean>().Value(), &why);
  ApplyThreads();
  Napi::Object out = Napi::Object::New(env);
  out.Set("dnnl", version.empty() ? env.Null() : Napi::String::New(env, version));
  out.Set("why", Napi::String::New(env, why));
  return out;
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("corename", Napi::String::New(env, openblas_get_corename()));
  out.Set("config", Napi::String::New(env, openblas_get_config()));
  out.Set("threads", Napi::Number::New(env, engine_threads));
  return out;
}

// The interface version: src/core/blas-addon.ts's ADDON_ABI. Raise both whenever an exported function's
// arguments or meaning change, so that an addon built from older sources is refused instead of misused.
constexpr int kAbiVersion = 4;

Napi::Value AbiVersion(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), kAbiVersion);
}

// fmaPeak(threads, seconds) -> { gflops, path, lanes }: the CPU's float32 FMA peak on that many threads.
Napi::Value FmaPeak(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "fmaPeak(threads, seconds)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int threads = info[0].As<Napi::Number>().Int32Value();
  double seconds = info[1].As<Napi::Number>().DoubleValue();
  if (threads < 1 || threads > 1024 || !(seconds > 0 && seconds <= 60)) {
    Napi::RangeError::New(env, "fmaPeak: threads in [1, 1024], seconds in (0, 60]").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  PeakMeasurement peak = MeasureFmaPeak(threads, seconds);
  Napi::Object out = Napi::Object::New(env);
  out.Set("gflops", peak.gflops);
  out.Set("path", peak.path);
  out.Set("lanes", peak.lanes);
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  engine_threads = openblas_get_num_threads();
  exports.Set("sgemm", Napi::Function::New(env, Sgemm, "sgemm"));
  exports.Set("saxpy", Napi::Function::New(env, Saxpy, "saxpy"));
  exports.Set("sscal", Napi::Function::New(env, Sscal, "sscal"));
  exports.Set("sger", Napi::Function::New(env, Sger, "sger"));
  exports.Set("sgdUpdate", Napi::Function::New(env, SgdUpdate, "sgdUpdate"));
  exports.Set("reluDifference", Napi::Function::New(env, ReluDifference, "reluDifference"));
  exports.Set("regroupMaps", Napi::Function::New(env, RegroupMaps, "regroupMaps"));
  exports.Set("maxPool2Backward", Napi::Function::New(env, MaxPool2Backward, "maxPool2Backward"));
  exports.Set("adamUpdate", Napi::Function::New(env, AdamUpdate, "adamUpdate"));
  exports.Set("reluNormalizeRows", Napi::Function::New(env, ReluNormalizeRows, "reluNormalizeRows"));
  exports.Set("im2colRows", Napi::Function::New(env, Im2colRows, "im2colRows"));
  exports.Set("maxPool2Rows", Napi::Function::New(env, MaxPool2Rows, "maxPool2Rows"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("abiVersion", Napi::Function::New(env, AbiVersion, "abiVersion"));
  exports.Set("fmaPeak", Napi::Function::New(env, FmaPeak, "fmaPeak"));
  exports.Set("gemmSetup", Napi::Function::New(env, GemmSetup, "gemmSetup"));
  return exports;
}

}  // namespace

NODE_API_MODULE(topdown_blas, Init)
