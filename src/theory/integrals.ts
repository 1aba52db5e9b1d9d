/**
 * Closed-form Gaussian expectations for the activation g(z) = erf(z / sqrt(2)) (Saad & Solla 1995; Goldt et
 * al. 2019). Every function takes a covariance matrix `C` (row-major, `n` x `n`) of jointly Gaussian, zero-mean
 * local fields u and indices into it; indices may repeat (e.g. I3(a, a, a)).
 */

const TWO_OVER_PI = 2 / Math.PI;
const FOUR_OVER_PI2 = 4 / (Math.PI * Math.PI);

/** Clamps an arcsin argument that rounding pushed just outside [-1, 1]. */
const asin = (x: number): number => Math.asin(x > 1 ? 1 : x < -1 ? -1 : x);

/** E[g(u_a) g(u_b)] = (2/pi) arcsin(C_ab / sqrt((1 + C_aa)(1 + C_bb))). */
export function i2(C: Float64Array, n: number, a: number, b: number): number {
  return TWO_OVER_PI * asin(C[a * n + b]! / Math.sqrt((1 + C[a * n + a]!) * (1 + C[b * n + b]!)));
}

/** E[g'(u_a) u_b g(u_c)]. */
export function i3(C: Float64Array, n: number, a: number, b: number, c: number): number {
  const caa = C[a * n + a]!;
  const cab = C[a * n + b]!;
  const cac = C[a * n + c]!;
  const cbc = C[b * n + c]!;
  const ccc = C[c * n + c]!;
  const lambda3 = (1 + caa) * (1 + ccc) - cac * cac;
  return (TWO_OVER_PI / Math.sqrt(lambda3)) * ((cbc * (1 + caa) - cab * cac) / (1 + caa));
}

/** E[g'(u_a) g'(u_b) g(u_c) g(u_d)]. */
export function i4(C: Float64Array, n: number, a: number, b: number, c: number, d: number): number {
  const caa = C[a * n + a]!;
  const cbb = C[b * n + b]!;
  const ccc = C[c * n + c]!;
  const cdd = C[d * n + d]!;
  const cab = C[a * n + b]!;
  const cac = C[a * n + c]!;
  const cad = C[a * n + d]!;
  const cbc = C[b * n + c]!;
  const cbd = C[b * n + d]!;
  const ccd = C[c * n + d]!;
  const lambda4 = (1 + caa) * (1 + cbb) - cab * cab;
  const lambda0 =
    lambda4 * ccd - cbc * cbd * (1 + caa) - cac * cad * (1 + cbb) + cab * cac * cbd + cab * cad * cbc;
  const lambda1 = lambda4 * (1 + ccc) - cbc * cbc * (1 + caa) - cac * cac * (1 + cbb) + 2 * cab * cac * cbc;
  const lambda2 = lambda4 * (1 + cdd) - cbd * cbd * (1 + caa) - cad * cad * (1 + cbb) + 2 * cab * cad * cbd;
  return (FOUR_OVER_PI2 / Math.sqrt(lambda4)) * asin(lambda0 / Math.sqrt(lambda1 * lambda2));
}

/** E[g'(u_a) g'(u_b)] = (2/pi) / sqrt((1 + C_aa)(1 + C_bb) - C_ab^2); needed with output noise only. */
export function j2(C: Float64Array, n: number, a: number, b: number): number {
  const cab = C[a * n + b]!;
  return TWO_OVER_PI / Math.sqrt((1 + C[a * n + a]!) * (1 + C[b * n + b]!) - cab * cab);
}
