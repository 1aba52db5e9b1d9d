// oneDNN's sgemm, loaded at run time when the system has it (see dnnl_gemm.cc).
#pragma once

#include <signal.h>

#include <cstdint>
#include <string>

/**
 * oneDNN 2.x's JIT sgemm kernels point the stack pointer into a heap workspace while they run (oneDNN issue
 * #4845, fixed in 3.11.2): a signal handled on a thread inside one of them writes its frame into the heap and
 * corrupts it (Ctrl-C's SIGINT, a profiler's SIGPROF; reproduced in a plain C program). While one of these
 * lives, the calling thread takes no asynchronous signal: one sent to the process goes to another thread, one
 * aimed at this thread waits until the product is done. Threads started meanwhile inherit the blocked mask.
 */
class SignalsBlocked {
 public:
  SignalsBlocked();
  ~SignalsBlocked();
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t saved_;
};

/**
 * Loads oneDNN (libdnnl.so.3, else .so.2) once when `allow`; returns its version ("oneDNN 2.6.3") or an empty
 * string, with the reason in `why` when it is not in use.
 */
std::string DnnlSetup(bool allow, std::string* why);

/** Whether oneDNN is loaded and in use. */
bool DnnlActive();

/** C = alpha op(A) op(B) + beta C, row-major, through oneDNN; false when it refused (the caller falls back). */
bool DnnlSgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
               int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

/** Sets the threads of oneDNN's OpenMP runtime for products started from the calling thread. */
void DnnlSetThreads(int threads);
