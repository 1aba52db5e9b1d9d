// oneDNN's sgemm (the CPU library PyTorch and TensorFlow use), loaded with dlopen when the system has it, so
// the addon builds and runs without it. oneDNN picks its kernels by instruction set at run time: on a CPU
// with AVX-512 it runs them whatever OPENBLAS_CORETYPE says. Its own signatures are declared here, so no
// header is needed at build time.
#include "dnnl_gemm.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>

namespace {

typedef int (*SgemmFn)(char transa, char transb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                       int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
struct DnnlVersion {
  int major, minor, patch;
  const char* hash;
  unsigned cpu_runtime, gpu_runtime;
};
typedef const DnnlVersion* (*VersionFn)();
typedef void (*SetThreadsFn)(int);

SgemmFn sgemm_fn = nullptr;
SetThreadsFn set_threads_fn = nullptr;

}  // namespace

std::string DnnlSetup(bool allow, std::string* why) {
  sgemm_fn = nullptr;
  set_threads_fn = nullptr;
  if (!allow) {
    *why = "not asked for (TOPDOWN_GEMM=openblas)";
    return "";
  }
  void* handle = nullptr;
  for (const char* name : {"libdnnl.so.3", "libdnnl.so.2"}) {
    handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (handle) break;
  }
  if (!handle) {
    *why = "oneDNN not found (Debian: apt-get install libdnnl-dev)";
    return "";
  }
  auto sgemm = reinterpret_cast<SgemmFn>(dlsym(handle, "dnnl_sgemm"));
  auto version = reinterpret_cast<VersionFn>(dlsym(handle, "dnnl_version"));
  if (!sgemm || !version) {
    *why = "the oneDNN found has no dnnl_sgemm";
    return "";
  }
  // oneDNN's threads are its OpenMP runtime's (Debian builds it with OpenMP); searched from oneDNN's handle,
  // the runtime it was linked with
  set_threads_fn = reinterpret_cast<SetThreadsFn>(dlsym(handle, "omp_set_num_threads"));
  sgemm_fn = sgemm;
  const DnnlVersion* v = version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

bool DnnlActive() { return sgemm_fn != nullptr; }

SignalsBlocked::SignalsBlocked() {
  sigset_t asynchronous;
  sigfillset(&asynchronous);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT}) sigdelset(&asynchronous, sig);
  pthread_sigmask(SIG_BLOCK, &asynchronous, &saved_);
}

SignalsBlocked::~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

bool DnnlSgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
               int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (!sgemm_fn) return false;
  SignalsBlocked blocked;
  return sgemm_fn(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == 0;
}

void DnnlSetThreads(int threads) {
  if (set_threads_fn) set_threads_fn(threads);
}
