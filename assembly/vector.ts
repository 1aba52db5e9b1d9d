// Elementwise and optimiser sweeps of the `wasm` engine, 128-bit SIMD. Each computes exactly what the `js`
// engine's TypeScript loop computes (same operations, same rounding), so the two engines agree bit for bit:
// sums formed in double in TypeScript are formed in f64x2 here. Pointers are byte addresses, n in elements.

@inline
function f64lo(x: v128): v128 {
  return f64x2.promote_low_f32x4(x);
}

@inline
function f64hi(x: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1));
}

@inline
function f32of(lo: v128, hi: v128): v128 {
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** y += alpha x (the sum in double, rounded once). */
export function axpy(n: i32, alpha: f64, x: usize, y: usize): void {
  const va = f64x2.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const xv = v128.load(x + o);
    const yv = v128.load(y + o);
    const lo = f64x2.add(f64lo(yv), f64x2.mul(va, f64lo(xv)));
    const hi = f64x2.add(f64hi(yv), f64x2.mul(va, f64hi(xv)));
    v128.store(y + o, f32of(lo, hi));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, <f32>(<f64>load<f32>(y + o) + alpha * <f64>load<f32>(x + o)));
  }
}

/** x *= alpha (the product in double, rounded once); alpha == 0 writes zeros. */
export function scal(n: i32, alpha: f64, x: usize): void {
  const va = f64x2.splat(alpha);
  let i = 0;
  if (alpha == 0) {
    for (; i + 4 <= n; i += 4) v128.store(x + (<usize>i << 2), f32x4.splat(0));
    for (; i < n; i++) store<f32>(x + (<usize>i << 2), 0);
    return;
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const xv = v128.load(x + o);
    v128.store(x + o, f32of(f64x2.mul(va, f64lo(xv)), f64x2.mul(va, f64hi(xv))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(x + o, <f32>(alpha * <f64>load<f32>(x + o)));
  }
}

/** A += alpha x y^T for A of m x n with row stride lda (the products and sums in double). */
export function ger(m: i32, n: i32, alpha: f64, x: usize, y: usize, a: usize, lda: usize): void {
  for (let i = 0; i < m; i++) {
    const s = alpha * <f64>load<f32>(x + (<usize>i << 2));
    axpy(n, s, y, a + ((<usize>i * lda) << 2));
  }
}

/** v += wd w; w -= lr v, float32 rounding at each step. */
export function sgdUpdate(n: i32, w: usize, v: usize, lr: f32, wd: f32): void {
  const vr = f32x4.splat(lr);
  const vw = f32x4.splat(wd);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const wv = v128.load(w + o);
    const vi = f32x4.add(v128.load(v + o), f32x4.mul(vw, wv));
    v128.store(v + o, vi);
    v128.store(w + o, f32x4.sub(wv, f32x4.mul(vr, vi)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const wi = load<f32>(w + o);
    const vi = load<f32>(v + o) + wd * wi;
    store<f32>(v + o, vi);
    store<f32>(w + o, wi - lr * vi);
  }
}

/**
 * One Adam sweep (torch.optim.Adam) over p (rows x cols, row stride pStride) with contiguous g, m, v:
 * g' = g + wd p; m = b1 m + c1 g'; v = b2 v + (c2 g') g'; p -= (stepSize m) / (sqrt(v) invBc2Sqrt + eps).
 */
export function adamUpdate(
  rows: i32,
  cols: i32,
  p: usize,
  pStride: usize,
  g: usize,
  m: usize,
  v: usize,
  beta1: f32,
  beta2: f32,
  wd: f32,
  eps: f32,
  stepSize: f32,
  invBc2Sqrt: f32,
  c1: f32,
  c2: f32,
): void {
  const vb1 = f32x4.splat(beta1);
  const vb2 = f32x4.splat(beta2);
  const vwd = f32x4.splat(wd);
  const veps = f32x4.splat(eps);
  const vstep = f32x4.splat(stepSize);
  const vinv = f32x4.splat(invBc2Sqrt);
  const vc1 = f32x4.splat(c1);
  const vc2 = f32x4.splat(c2);
  for (let r = 0; r < rows; r++) {
    const pRow = p + ((<usize>r * pStride) << 2);
    const bRow = <usize>(r * cols) << 2;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const pj = pRow + (<usize>j << 2);
      const bj = bRow + (<usize>j << 2);
      const pv = v128.load(pj);
      const gk = f32x4.add(v128.load(g + bj), f32x4.mul(vwd, pv));
      const mk = f32x4.add(f32x4.mul(vb1, v128.load(m + bj)), f32x4.mul(vc1, gk));
      const vk = f32x4.add(f32x4.mul(vb2, v128.load(v + bj)), f32x4.mul(f32x4.mul(vc2, gk), gk));
      v128.store(m + bj, mk);
      v128.store(v + bj, vk);
      const denom = f32x4.add(f32x4.mul(f32x4.sqrt(vk), vinv), veps);
      v128.store(pj, f32x4.sub(pv, f32x4.div(f32x4.mul(vstep, mk), denom)));
    }
    for (; j < cols; j++) {
      const pj = pRow + (<usize>j << 2);
      const bj = bRow + (<usize>j << 2);
      const pk = load<f32>(pj);
      const gk = load<f32>(g + bj) + wd * pk;
      const mk = beta1 * load<f32>(m + bj) + c1 * gk;
      const vk = beta2 * load<f32>(v + bj) + c2 * gk * gk;
      store<f32>(m + bj, mk);
      store<f32>(v + bj, vk);
      store<f32>(pj, pk - (stepSize * mk) / (sqrt<f32>(vk) * invBc2Sqrt + eps));
    }
  }
}

/** out = max(x, 0), keeping NaN and -0 as the TypeScript loop does (x < 0 ? 0 : x). */
export function relu(n: i32, x: usize, out: usize): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(out + o, v128.bitselect(zero, v, f32x4.lt(v, zero)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(out + o, v < 0 ? 0 : v);
  }
}

/** out = 1 where x > 0, 0 where x <= 0, NaN where x is NaN. */
export function reluMask(n: i32, x: usize, out: usize): void {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    const notPositive = v128.bitselect(zero, v, f32x4.le(v, zero));
    v128.store(out + o, v128.bitselect(one, notPositive, f32x4.gt(v, zero)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const v = load<f32>(x + o);
    store<f32>(out + o, v > 0 ? 1 : v <= 0 ? 0 : v);
  }
}

/** out = x * y elementwise. */
export function multiply(n: i32, x: usize, y: usize, out: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.mul(v128.load(x + o), v128.load(y + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(x + o) * load<f32>(y + o));
  }
}

/** out = x - y elementwise. */
export function subtract(n: i32, x: usize, y: usize, out: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.sub(v128.load(x + o), v128.load(y + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(x + o) - load<f32>(y + o));
  }
}

/**
 * Rows of a relu layer normalised per sample (rows x d, contiguous): g = relu(a); out[r] = sum_j g_rj^2 in
 * double, in order (out[rows + r] its square root); h = g * target / max(norm, floor), the product in double.
 * `out` holds 2 * rows doubles: the squared norms, then the norms.
 */
export function reluNormalizeRows(
  rows: i32,
  d: i32,
  a: usize,
  g: usize,
  h: usize,
  target: f64,
  floor: f64,
  out: usize,
): void {
  for (let r = 0; r < rows; r++) {
    const o = <usize>(r * d) << 2;
    relu(d, a + o, g + o);
    let s: f64 = 0;
    for (let j = 0; j < d; j++) {
      const v = <f64>load<f32>(g + o + (<usize>j << 2));
      s += v * v;
    }
    const norm = sqrt<f64>(s);
    store<f64>(out + (<usize>r << 3), s);
    store<f64>(out + (<usize>(rows + r) << 3), norm);
    scaleInto(d, target / max<f64>(norm, floor), g + o, h + o);
  }
}

/** out = x * alpha (the product in double, rounded once). */
function scaleInto(n: i32, alpha: f64, x: usize, out: usize): void {
  const va = f64x2.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const xv = v128.load(x + o);
    v128.store(out + o, f32of(f64x2.mul(va, f64lo(xv)), f64x2.mul(va, f64hi(xv))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, <f32>(alpha * <f64>load<f32>(x + o)));
  }
}
