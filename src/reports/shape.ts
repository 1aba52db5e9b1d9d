/**
 * The shape of a curve, for comparing a reproduction with values the spec reads off a published figure:
 * its value at a given x (interpolated), and features (start, final, max, min, the plateau of a learning
 * curve and the time it escapes from it).
 */
import type { Reading } from '../experiments/experiment.js';

/** A curve: y per x, x increasing. */
export interface XY {
  x: readonly number[];
  y: readonly number[];
}

/** What a shape feature is: its value, and where on the x axis it is found. */
export interface Feature {
  value: number;
  at: number;
}

export type FeatureName = NonNullable<Reading['feature']>;

/** y at x, linearly interpolated between the neighbouring points (null outside the curve). */
export function valueAt(curve: XY, x: number): number | null {
  const { x: xs, y: ys } = curve;
  if (!xs.length || x < xs[0]! || x > xs[xs.length - 1]!) return null;
  let i = 0;
  while (i < xs.length - 1 && xs[i + 1]! < x) i++;
  if (xs[i] === x || i === xs.length - 1) return ys[i]!;
  const f = (x - xs[i]!) / (xs[i + 1]! - xs[i]!);
  return ys[i]! + f * (ys[i + 1]! - ys[i]!);
}

/**
 * The plateau of a decreasing learning curve: among the points where the curve has fallen at least a quarter
 * of the way from its start to its minimum (so the initial flat stretch does not count), the one where it is
 * flattest in log y vs log x (central differences over the neighbouring points). Null when the curve does
 * not fall or has no interior point.
 */
export function plateauOf(curve: XY): Feature | null {
  const { x, y } = curve;
  if (y.length < 3) return null;
  const low = y.reduce((a, b) => Math.min(a, b), Infinity);
  const threshold = y[0]! - 0.25 * (y[0]! - low);
  if (!(low < y[0]!)) return null;
  let best: Feature | null = null;
  let flattest = Infinity;
  for (let i = 1; i < x.length - 1; i++) {
    if (!(y[i]! <= threshold) || x[i - 1]! <= 0 || y[i - 1]! <= 0 || y[i + 1]! <= 0) continue;
    const slope = Math.abs(
      (Math.log(y[i + 1]!) - Math.log(y[i - 1]!)) / (Math.log(x[i + 1]!) - Math.log(x[i - 1]!)),
    );
    if (slope < flattest) [flattest, best] = [slope, { value: y[i]!, at: x[i]! }];
  }
  return best;
}

/** The escape from the plateau: the first x after it where the curve is 10% below the plateau's value. */
export function escapeOf(curve: XY): Feature | null {
  const plateau = plateauOf(curve);
  if (!plateau) return null;
  for (let i = 0; i < curve.x.length; i++) {
    if (curve.x[i]! > plateau.at && curve.y[i]! < 0.9 * plateau.value) {
      return { value: curve.y[i]!, at: curve.x[i]! };
    }
  }
  return null;
}

/** A named feature of a curve (null when the curve is empty or has no such feature). */
export function featureOf(curve: XY, name: FeatureName): Feature | null {
  const { x, y } = curve;
  if (!x.length) return null;
  switch (name) {
    case 'start':
      return { value: y[0]!, at: x[0]! };
    case 'final':
      return { value: y[y.length - 1]!, at: x[x.length - 1]! };
    case 'max':
    case 'min': {
      let k = 0;
      for (let i = 1; i < y.length; i++) if (name === 'max' ? y[i]! > y[k]! : y[i]! < y[k]!) k = i;
      return { value: y[k]!, at: x[k]! };
    }
    case 'plateau':
      return plateauOf(curve);
    case 'escape':
      return escapeOf(curve);
  }
}

/**
 * What a reading is compared with: the curve's value at the reading's x, or the feature's value; for the
 * `escape` feature, the time of the escape (the spec reads when the curve leaves its plateau).
 */
export function measureReading(curve: XY, reading: Reading): number | null {
  if (reading.at !== undefined) return valueAt(curve, reading.at);
  const feature = featureOf(curve, reading.feature!);
  if (!feature) return null;
  return reading.feature === 'escape' ? feature.at : feature.value;
}

/** How a reading is described in a table: `epoch 25`, `t = 500`, `final`, `escape time`. */
export function readingLabel(reading: Reading, xName: string): string {
  if (reading.at !== undefined) return xName === 't' ? `t = ${reading.at}` : `${xName} ${reading.at}`;
  return reading.feature === 'escape' ? 'escape time' : reading.feature!;
}
