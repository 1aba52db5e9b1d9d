// Float32 GEMM for the `wasm` engine, in AssemblyScript with 128-bit SIMD: C = alpha op(A) op(B) + beta C,
// row-major. Pointers are byte addresses in the engine's (shared) memory. Goto/BLIS blocking: a KC x NC panel
// of op(B) and an MC x KC block of op(A) are packed into micro-panels, and an MR x NR register-blocked
// micro-kernel (MR = 4 rows, NR = 8 columns: 8 accumulators) multiplies them. Built twice: with plain SIMD
// and with relaxed SIMD, where each multiply-add is one fused f32x4.relaxed_madd.

/** Rows of the micro-kernel. */
export const MR: i32 = 4;
/** Columns of the micro-kernel (two f32x4 registers). */
export const NR: i32 = 8;
/** Shared-dimension block: one micro-panel of B (KC x NR floats) stays in L1. */
export const KC: i32 = 256;
/** Rows of op(A) packed at once: MC x KC floats stay in L2. */
export const MC: i32 = 128;
/** Columns of op(B) packed at once. */
export const NC: i32 = 1024;

/** Floats of scratch one thread needs: the packed A block, the packed B panel and an edge tile. */
export function workFloats(): i32 {
  return MC * KC + KC * NC + MR * NR;
}

@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** 1 when this build fuses multiply-adds (relaxed SIMD). */
export function fused(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

// Packs rows [i0, i0 + mc) x columns [p0, p0 + kc) of op(A) into micro-panels of MR rows: for each panel,
// kc groups of MR floats (zero rows past the edge).
function packA(trans: bool, a: usize, lda: usize, i0: i32, mc: i32, p0: i32, kc: i32, dst: usize): void {
  for (let ip = 0; ip < mc; ip += MR) {
    const rows = min(MR, mc - ip);
    const i = <usize>(i0 + ip);
    if (trans) {
      // op(A)(i, p) = A[p * lda + i]: the MR values of one p are contiguous
      let src = a + ((<usize>p0 * lda + i) << 2);
      const step = lda << 2;
      if (rows == MR) {
        for (let p = 0; p < kc; p++) {
          v128.store(dst, v128.load(src));
          dst += 16;
          src += step;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let r = 0; r < MR; r++) store<f32>(dst + (<usize>r << 2), r < rows ? load<f32>(src + (<usize>r << 2)) : 0);
          dst += 16;
          src += step;
        }
      }
    } else {
      // op(A)(i, p) = A[i * lda + p]: MR row pointers advance together
      const rowBytes = lda << 2;
      let r0 = a + ((i * lda + <usize>p0) << 2);
      if (rows == MR) {
        const r1 = rowBytes;
        const r2 = rowBytes * 2;
        const r3 = rowBytes * 3;
        let p = 0;
        for (; p + 4 <= kc; p += 4) {
          // a 4x4 transpose: four rows of four p values become four groups of MR values
          const x0 = v128.load(r0);
          const x1 = v128.load(r0 + r1);
          const x2 = v128.load(r0 + r2);
          const x3 = v128.load(r0 + r3);
          const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
          const t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
          const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
          const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
          v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
          v128.store(dst, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 16);
          v128.store(dst, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 32);
          v128.store(dst, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 48);
          dst += 64;
          r0 += 16;
        }
        for (; p < kc; p++) {
          store<f32>(dst, load<f32>(r0));
          store<f32>(dst, load<f32>(r0 + r1), 4);
          store<f32>(dst, load<f32>(r0 + r2), 8);
          store<f32>(dst, load<f32>(r0 + r3), 12);
          dst += 16;
          r0 += 4;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let r = 0; r < MR; r++) {
            store<f32>(dst + (<usize>r << 2), r < rows ? load<f32>(r0 + <usize>r * rowBytes) : 0);
          }
          dst += 16;
          r0 += 4;
        }
      }
    }
  }
}

// Packs rows [p0, p0 + kc) x columns [j0, j0 + nc) of op(B) into micro-panels of NR columns: for each panel,
// kc groups of NR floats (zero columns past the edge).
function packB(trans: bool, b: usize, ldb: usize, p0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  for (let jp = 0; jp < nc; jp += NR) {
    const cols = min(NR, nc - jp);
    const j = <usize>(j0 + jp);
    if (!trans) {
      // op(B)(p, j) = B[p * ldb + j]: the NR values of one p are contiguous
      let src = b + ((<usize>p0 * ldb + j) << 2);
      const step = ldb << 2;
      if (cols == NR) {
        for (let p = 0; p < kc; p++) {
          v128.store(dst, v128.load(src));
          v128.store(dst, v128.load(src, 16), 16);
          dst += 32;
          src += step;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let c = 0; c < NR; c++) store<f32>(dst + (<usize>c << 2), c < cols ? load<f32>(src + (<usize>c << 2)) : 0);
          dst += 32;
          src += step;
        }
      }
    } else {
      // op(B)(p, j) = B[j * ldb + p]: NR column pointers advance together, 4x4 transposes
      const colBytes = ldb << 2;
      let c0 = b + ((j * ldb + <usize>p0) << 2);
      if (cols == NR) {
        let p = 0;
        for (; p + 4 <= kc; p += 4) {
          for (let h = 0; h < 2; h++) {
            const base = c0 + <usize>(h * 4) * colBytes;
            const x0 = v128.load(base);
            const x1 = v128.load(base + colBytes);
            const x2 = v128.load(base + colBytes * 2);
            const x3 = v128.load(base + colBytes * 3);
            const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
            const t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
            const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
            const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
            const d = dst + (<usize>h << 4);
            v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
            v128.store(d, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 32);
            v128.store(d, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 64);
            v128.store(d, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 96);
          }
          dst += 128;
          c0 += 16;
        }
        for (; p < kc; p++) {
          for (let c = 0; c < NR; c++) store<f32>(dst + (<usize>c << 2), load<f32>(c0 + <usize>c * colBytes));
          dst += 32;
          c0 += 4;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          for (let c = 0; c < NR; c++) {
            store<f32>(dst + (<usize>c << 2), c < cols ? load<f32>(c0 + <usize>c * colBytes) : 0);
          }
          dst += 32;
          c0 += 4;
        }
      }
    }
  }
}

// Writes one row of a tile: C = alpha acc + beta C over 8 columns (beta == 0: C is not read).
@inline
function storeRow(c: usize, lo: v128, hi: v128, alpha: v128, beta: f32, vbeta: v128): void {
  if (beta == 0) {
    v128.store(c, f32x4.mul(alpha, lo));
    v128.store(c, f32x4.mul(alpha, hi), 16);
  } else if (beta == 1) {
    v128.store(c, f32x4.add(f32x4.mul(alpha, lo), v128.load(c)));
    v128.store(c, f32x4.add(f32x4.mul(alpha, hi), v128.load(c, 16)), 16);
  } else {
    v128.store(c, f32x4.add(f32x4.mul(alpha, lo), f32x4.mul(vbeta, v128.load(c))));
    v128.store(c, f32x4.add(f32x4.mul(alpha, hi), f32x4.mul(vbeta, v128.load(c, 16))), 16);
  }
}

// The MR x NR micro-kernel over kc packed groups; a full tile is written to C, an edge tile (rows x cols)
// through the scratch tile `edge`.
function kernel(
  kc: i32,
  ap: usize,
  bp: usize,
  c: usize,
  ldc: usize,
  rows: i32,
  cols: i32,
  alpha: f32,
  beta: f32,
  edge: usize,
): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let x = v128.load32_splat(ap);
    c00 = madd(x, b0, c00);
    c01 = madd(x, b1, c01);
    x = v128.load32_splat(ap, 4);
    c10 = madd(x, b0, c10);
    c11 = madd(x, b1, c11);
    x = v128.load32_splat(ap, 8);
    c20 = madd(x, b0, c20);
    c21 = madd(x, b1, c21);
    x = v128.load32_splat(ap, 12);
    c30 = madd(x, b0, c30);
    c31 = madd(x, b1, c31);
    ap += 16;
    bp += 32;
  }
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  const rowBytes = ldc << 2;
  if (rows == MR && cols == NR) {
    storeRow(c, c00, c01, va, beta, vb);
    storeRow(c + rowBytes, c10, c11, va, beta, vb);
    storeRow(c + rowBytes * 2, c20, c21, va, beta, vb);
    storeRow(c + rowBytes * 3, c30, c31, va, beta, vb);
    return;
  }
  v128.store(edge, f32x4.mul(va, c00));
  v128.store(edge, f32x4.mul(va, c01), 16);
  v128.store(edge, f32x4.mul(va, c10), 32);
  v128.store(edge, f32x4.mul(va, c11), 48);
  v128.store(edge, f32x4.mul(va, c20), 64);
  v128.store(edge, f32x4.mul(va, c21), 80);
  v128.store(edge, f32x4.mul(va, c30), 96);
  v128.store(edge, f32x4.mul(va, c31), 112);
  for (let r = 0; r < rows; r++) {
    const row = c + <usize>r * rowBytes;
    const t = edge + (<usize>(r * NR) << 2);
    for (let j = 0; j < cols; j++) {
      const at = row + (<usize>j << 2);
      const v = load<f32>(t + (<usize>j << 2));
      if (beta == 0) store<f32>(at, v);
      else if (beta == 1) store<f32>(at, v + load<f32>(at));
      else store<f32>(at, v + beta * load<f32>(at));
    }
  }
}

/** C[i0:i1, j0:j1] *= beta (beta == 0 writes zeros, whatever C held). */
export function scaleBlock(c: usize, ldc: usize, i0: i32, i1: i32, j0: i32, j1: i32, beta: f32): void {
  if (beta == 1) return;
  const vb = f32x4.splat(beta);
  for (let i = i0; i < i1; i++) {
    const row = c + ((<usize>i * ldc + <usize>j0) << 2);
    const n = j1 - j0;
    let j = 0;
    if (beta == 0) {
      for (; j + 4 <= n; j += 4) v128.store(row + (<usize>j << 2), f32x4.splat(0));
      for (; j < n; j++) store<f32>(row + (<usize>j << 2), 0);
    } else {
      for (; j + 4 <= n; j += 4) {
        const at = row + (<usize>j << 2);
        v128.store(at, f32x4.mul(vb, v128.load(at)));
      }
      for (; j < n; j++) {
        const at = row + (<usize>j << 2);
        store<f32>(at, beta * load<f32>(at));
      }
    }
  }
}

/**
 * Computes the block C[i0:i1, j0:j1] of C = alpha op(A) op(B) + beta C (op(A) is m x k, op(B) k x n; a, b, c
 * address element (0, 0); lda, ldb, ldc in elements), with `work` holding workFloats() floats of scratch.
 */
export function gemmBlock(
  transA: i32,
  transB: i32,
  k: i32,
  alpha: f32,
  a: usize,
  lda: usize,
  b: usize,
  ldb: usize,
  beta: f32,
  c: usize,
  ldc: usize,
  i0: i32,
  i1: i32,
  j0: i32,
  j1: i32,
  work: usize,
): void {
  if (i1 <= i0 || j1 <= j0) return;
  if (k == 0 || alpha == 0) {
    scaleBlock(c, ldc, i0, i1, j0, j1, beta);
    return;
  }
  const bufA = work;
  const bufB = work + (<usize>(MC * KC) << 2);
  const edge = bufB + (<usize>(KC * NC) << 2);
  for (let jc = j0; jc < j1; jc += NC) {
    const nc = min(NC, j1 - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const blockBeta: f32 = pc == 0 ? beta : 1;
      packB(transB != 0, b, ldb, pc, kc, jc, nc, bufB);
      for (let ic = i0; ic < i1; ic += MC) {
        const mc = min(MC, i1 - ic);
        packA(transA != 0, a, lda, ic, mc, pc, kc, bufA);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = min(NR, nc - jr);
          const bp = bufB + (<usize>(jr * kc) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = min(MR, mc - ir);
            const ap = bufA + (<usize>(ir * kc) << 2);
            const cp = c + ((<usize>(ic + ir) * ldc + <usize>(jc + jr)) << 2);
            kernel(kc, ap, bp, cp, ldc, rows, cols, alpha, blockBeta, edge);
          }
        }
      }
    }
  }
}
