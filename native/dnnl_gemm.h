// oneDNN's sgemm, loaded at run time when the system has it (see dnnl_gemm.cc).
#pragma once

#include <cstdint>
#include <string>

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
