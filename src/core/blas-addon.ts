/**
 * Loads the optional OpenBLAS addon (build/Release/topdown_blas.node, built at install time).
 *
 * OpenBLAS reads OPENBLAS_CORETYPE once, when the shared library loads, so the core type is chosen here,
 * just before the first load, unless the user has set it. Loading happens at most once per process.
 *
 * The file is checked before it is loaded, since loading runs its code and a damaged one can kill the process
 * (a truncated shared object is mapped and then read past its end: SIGBUS): its size and SHA-256 against
 * what the build recorded in build/addon-status.json, and its ELF headers against its size. Once loaded, its
 * exports must be the functions below and its ABI marker this module's. Whatever fails is a one-line reason:
 * `auto` then passes over `blas`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chooseOpenBlasCoreType, readCpuInfo } from './cpu.js';
import { TopdownUsageError } from './errors.js';
import type { ReluDifferenceFn } from './kernels.js';
import type { SgemmFn } from './sgemm-type.js';
import { printable, quoted } from './untrusted.js';

/**
 * The addon interface this module expects; native/topdown_blas.cc's `abiVersion()` returns it. Raise both
 * together whenever an exported function's arguments or meaning change.
 */
export const ADDON_ABI = 4;

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
  regroupMaps(
    toMaps: boolean,
    n: number,
    filters: number,
    positions: number,
    rows: Float32Array,
    rowsOff: number,
    rowsStride: number,
    maps: Float32Array,
  ): void;
  maxPool2Backward(
    n: number,
    inFeatures: number,
    outFeatures: number,
    dy: Float32Array,
    dyOff: number,
    dyStride: number,
    dx: Float32Array,
    dxOff: number,
    dxStride: number,
    argmax: Int32Array,
  ): void;
  setThreads(threads: number): void;
  info(): { corename: string; config: string; threads: number };
  /** The interface version ({@link ADDON_ABI}). */
  abiVersion(): number;
  /**
   * The CPU's float32 FMA peak on `threads` threads, measured in about `seconds`: independent chains of fused
   * multiply-adds at the widest vector width the CPU has (`path`: avx512, avx2-fma or scalar).
   */
  fmaPeak(threads: number, seconds: number): { gflops: number; path: string; lanes: number };
  /**
   * Loads oneDNN (when `allowDnnl` and the system has it) for the products it makes faster than OpenBLAS;
   * returns its version, or null and why not.
   */
  gemmSetup(allowDnnl: boolean): GemmLibraries;
}

/** The libraries that make the addon's products: OpenBLAS always, oneDNN where it is faster and present. */
export interface GemmLibraries {
  /** oneDNN's version when it is in use (`oneDNN 2.6.3`), else null. */
  dnnl: string | null;
  /** Why oneDNN is not in use (empty when it is). */
  why: string;
}

/** TOPDOWN_GEMM: `auto` (default: oneDNN where it is faster, when present) or `openblas` (OpenBLAS alone). */
export const GEMM_ENV = 'TOPDOWN_GEMM';

/** Whether TOPDOWN_GEMM allows oneDNN; a value other than auto or openblas is one line. */
export function dnnlAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[GEMM_ENV];
  if (!value || value === 'auto') return true;
  if (value === 'openblas') return false;
  throw new TopdownUsageError(`${GEMM_ENV} must be auto or openblas; got ${quoted(value)}`);
}

/** Every function the addon must export. */
const ADDON_FUNCTIONS: readonly (keyof BlasAddon)[] = [
  'sgemm',
  'saxpy',
  'sscal',
  'sger',
  'sgdUpdate',
  'reluDifference',
  'adamUpdate',
  'reluNormalizeRows',
  'im2colRows',
  'maxPool2Rows',
  'regroupMaps',
  'maxPool2Backward',
  'setThreads',
  'info',
  'abiVersion',
  'fmaPeak',
  'gemmSetup',
];

/** Outcome of trying to load the addon. */
export type AddonLoad =
  | { ok: true; addon: BlasAddon; coreTypeForced: string | undefined; gemm: GemmLibraries }
  | { ok: false; reason: string };

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Internal (tests): a build folder laid out as build/ (`Release/topdown_blas.node`, `addon-status.json`) to
 * load the addon from instead of the package's, so that damaged copies can be tried without touching it.
 */
export const ADDON_DIR_ENV = 'TOPDOWN_ADDON_DIR';

/** What build/addon-status.json holds (written by scripts/build-addon.mjs). */
interface AddonStatus {
  built?: boolean;
  reason?: string;
  /** Size in bytes and SHA-256 (hex) of the addon file the build wrote. */
  size?: number;
  sha256?: string;
}

let cached: AddonLoad | undefined;

/** The build folder: TOPDOWN_ADDON_DIR (an absolute path to a folder) when set, else the package's build/. */
function buildFolder(): string {
  const dir = process.env[ADDON_DIR_ENV];
  if (!dir) return join(packageRoot, 'build');
  // printable() changes exactly the strings that hold control characters
  const ok = isAbsolute(dir) && printable(dir) === dir && existsSync(dir) && statSync(dir).isDirectory();
  if (!ok)
    throw new TopdownUsageError(`${ADDON_DIR_ENV} must be the absolute path of a folder; got ${quoted(dir)}`);
  return dir;
}

function readStatus(path: string): AddonStatus | null {
  try {
    const status = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return typeof status === 'object' && status !== null && !Array.isArray(status)
      ? (status as AddonStatus)
      : null;
  } catch {
    return null; // no status file: the install script never ran (for example a copied checkout)
  }
}

function notBuiltReason(status: AddonStatus | null): string {
  if (status?.built === false && typeof status.reason === 'string')
    return `not built at install: ${printable(status.reason)}`;
  return 'not built (run: npm run build:addon)';
}

/**
 * Why `bytes` cannot be a complete ELF shared object, or null when its headers fit: the ELF magic, a shared
 * object's type, and the program headers, every loaded segment and the section headers within the file. A
 * truncated file fails here instead of being mapped and read past its end (SIGBUS).
 */
export function elfProblem(bytes: Uint8Array): string | null {
  const size = bytes.length;
  if (size < 52 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46)
    return 'not a shared library (no ELF header)';
  const wide = bytes[4] === 2;
  const little = bytes[5] === 1;
  if ((bytes[4] !== 1 && !wide) || (bytes[5] !== 1 && bytes[5] !== 2)) return 'not a valid ELF file';
  if (wide && size < 64) return `truncated (${size} bytes)`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number): number => view.getUint16(at, little);
  const u32 = (at: number): number => view.getUint32(at, little);
  // offsets of 2^53 bytes and more cannot fit in any file: reading them as doubles loses nothing that matters
  const word = (at: number): number => (wide ? Number(view.getBigUint64(at, little)) : u32(at));
  if (u16(16) !== 3) return 'not a shared library (ELF type is not ET_DYN)';
  const [phoff, shoff] = wide ? [word(32), word(40)] : [word(28), word(32)];
  const [phentsize, phnum, shentsize, shnum] = wide
    ? [u16(54), u16(56), u16(58), u16(60)]
    : [u16(42), u16(44), u16(46), u16(48)];
  let needed = Math.max(phoff + phentsize * phnum, shoff + shentsize * shnum);
  if (phoff + phentsize * phnum <= size) {
    for (let i = 0; i < phnum; i++) {
      const at = phoff + i * phentsize;
      if (u32(at) !== 1) continue; // PT_LOAD
      const [offset, fileSize] = wide ? [word(at + 8), word(at + 32)] : [word(at + 4), word(at + 16)];
      needed = Math.max(needed, offset + fileSize);
    }
  }
  return needed > size ? `truncated (${size} bytes; its ELF headers need ${needed})` : null;
}

/** Why the addon file at `path` must not be loaded, or null: checked against the build's record, then its ELF. */
function fileProblem(path: string, status: AddonStatus | null): string | null {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    return `unreadable (${printable((error as NodeJS.ErrnoException).code ?? (error as Error).message)})`;
  }
  if (typeof status?.size === 'number' && typeof status.sha256 === 'string') {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (bytes.length !== status.size || sha256 !== status.sha256)
      return bytes.length !== status.size
        ? `not the file the build wrote (${bytes.length} bytes, the build recorded ${status.size})`
        : 'not the file the build wrote (its SHA-256 differs from the one the build recorded)';
  }
  // ELF platforms only (Linux, the BSDs); macOS's Mach-O and Windows' PE are left to the recorded checksum
  if (process.platform === 'darwin' || process.platform === 'win32') return null;
  return elfProblem(bytes);
}

/** Why the loaded `exports` are not this addon, or null. */
function exportsProblem(exports: unknown): string | null {
  if (typeof exports !== 'object' || exports === null) return "not topdown's addon (it exports nothing)";
  const missing = ADDON_FUNCTIONS.filter(
    (name) => typeof (exports as Record<string, unknown>)[name] !== 'function',
  );
  if (missing.length)
    return `not topdown's addon (no ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''} function${missing.length > 1 ? 's' : ''})`;
  let abi: unknown;
  try {
    abi = (exports as BlasAddon).abiVersion();
  } catch {
    abi = undefined;
  }
  if (abi !== ADDON_ABI)
    return `built for another version of topdown (interface ${printable(abi)}, expected ${ADDON_ABI})`;
  return null;
}

/**
 * Loads the addon once per process (checked first, see the module's comment); later calls return the same
 * outcome. Throws a usage error only for a TOPDOWN_ADDON_DIR that is not an absolute folder path, or a
 * TOPDOWN_GEMM other than auto or openblas.
 */
export function loadBlasAddon(): AddonLoad {
  if (cached) return cached;
  const folder = buildFolder();
  const allowDnnl = dnnlAllowed();
  const addonPath = join(folder, 'Release', 'topdown_blas.node');
  const status = readStatus(join(folder, 'addon-status.json'));
  const rebuild = 'rebuild it with: npm run build:addon';
  if (!existsSync(addonPath)) {
    cached = { ok: false, reason: notBuiltReason(status) };
    return cached;
  }
  const shown = printable(addonPath);
  const problem = fileProblem(addonPath, status);
  if (problem) {
    cached = { ok: false, reason: `${shown} is ${problem}; ${rebuild}` };
    return cached;
  }
  let coreTypeForced: string | undefined;
  if (!process.env.OPENBLAS_CORETYPE) {
    coreTypeForced = chooseOpenBlasCoreType(readCpuInfo());
    if (coreTypeForced) process.env.OPENBLAS_CORETYPE = coreTypeForced;
  }
  let exports: unknown;
  try {
    const require = createRequire(import.meta.url);
    exports = require(addonPath);
  } catch (error) {
    cached = {
      ok: false,
      reason: `failed to load ${shown}: ${printable((error as Error).message.split('\n')[0])}`,
    };
    return cached;
  }
  const wrong = exportsProblem(exports);
  if (wrong) {
    cached = { ok: false, reason: `${shown} is ${wrong}; ${rebuild}` };
    return cached;
  }
  const addon = exports as BlasAddon;
  cached = { ok: true, addon, coreTypeForced, gemm: addon.gemmSetup(allowDnnl) };
  return cached;
}
