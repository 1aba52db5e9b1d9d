/**
 * Loads the optional OpenBLAS addon (build/Release/topdown_blas.node, built at install time).
 *
 * OpenBLAS reads OPENBLAS_CORETYPE once, when the shared library loads, so the core type is chosen here,
 * just before the first load, unless the user has set it. Loading happens at most once per process.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chooseOpenBlasCoreType, readCpuInfo } from './cpu.js';
import type { ReluDifferenceFn } from './kernels.js';
import type { SgemmFn } from './sgemm-type.js';

/** The native functions; argument order mirrors CBLAS (row-major). See native/topdown_blas.cc. */
export interface BlasAddon {
  sgemm: SgemmFn;
  saxpy(n: number, alpha: number, x: Float32Array, xOff: number, y: Float32Array, yOff: number): void;
  sscal(n: number, alpha: number, x: Float32Array, xOff: number): void;
  sger(
    m: number,
    n: number,
    alpha: number,
    x: Float32Array,
    xOff: number,
    y: Float32Array,
    yOff: number,
    a: Float32Array,
    aOff: number,
    lda: number,
  ): void;
  sgdUpdate(
    n: number,
    w: Float32Array,
    wOff: number,
    v: Float32Array,
    vOff: number,
    lr: number,
    weightDecay: number,
  ): void;
  reluDifference: ReluDifferenceFn;
  adamUpdate(
    rows: number,
    cols: number,
    p: Float32Array,
    pOff: number,
    pStride: number,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    beta1: number,
    beta2: number,
    weightDecay: number,
    eps: number,
    stepSize: number,
    invBc2Sqrt: number,
  ): void;
  reluNormalizeRows(
    rows: number,
    d: number,
    a: Float32Array,
    g: Float32Array,
    h: Float32Array,
    target: number,
    floor: number,
    norms: Float64Array,
    squares: Float64Array,
  ): void;
  im2colRows(
    channels: number,
    height: number,
    width: number,
    kernel: number,
    stride: number,
    padding: number,
    n: number,
    x: Float32Array,
    xOff: number,
    xStride: number,
    cols: Float32Array,
    ld: number,
  ): void;
  maxPool2Rows(
    channels: number,
    height: number,
    width: number,
    n: number,
    x: Float32Array,
    xOff: number,
    xStride: number,
    out: Float32Array,
    outOff: number,
    outStride: number,
    argmax: Int32Array,
    argOff: number,
  ): void;
  setThreads(threads: number): void;
  info(): { corename: string; config: string; threads: number };
}

/** Outcome of trying to load the addon. */
export type AddonLoad =
  { ok: true; addon: BlasAddon; coreTypeForced: string | undefined } | { ok: false; reason: string };

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const addonPath = join(packageRoot, 'build', 'Release', 'topdown_blas.node');
const statusPath = join(packageRoot, 'build', 'addon-status.json');

let cached: AddonLoad | undefined;

function notBuiltReason(): string {
  try {
    const status = JSON.parse(readFileSync(statusPath, 'utf8')) as { built?: boolean; reason?: string };
    if (status.built === false && status.reason) return `not built at install: ${status.reason}`;
  } catch {
    // no status file: the install script never ran (for example a copied checkout)
  }
  return 'not built (run: npm run build:addon)';
}

/** Loads the addon once per process; later calls return the same outcome. */
export function loadBlasAddon(): AddonLoad {
  if (cached) return cached;
  if (!existsSync(addonPath)) {
    cached = { ok: false, reason: notBuiltReason() };
    return cached;
  }
  let coreTypeForced: string | undefined;
  if (!process.env.OPENBLAS_CORETYPE) {
    coreTypeForced = chooseOpenBlasCoreType(readCpuInfo());
    if (coreTypeForced) process.env.OPENBLAS_CORETYPE = coreTypeForced;
  }
  try {
    const require = createRequire(import.meta.url);
    cached = { ok: true, addon: require(addonPath) as BlasAddon, coreTypeForced };
  } catch (error) {
    cached = { ok: false, reason: `failed to load ${addonPath}: ${(error as Error).message.split('\n')[0]}` };
  }
  return cached;
}
