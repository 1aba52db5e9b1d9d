import { InvalidArgumentError, Option } from 'commander';

import {
  JsEngine,
  type Engine,
  createEngine,
  engineFromEnvironment,
  ENGINE_NAMES,
  parseThreads,
  threadsFromEnvironment,
  type EngineChoice,
  type EngineSelection,
} from '../core/engine.js';
import { TopdownUnavailableError, TopdownUsageError } from '../core/errors.js';

import type { CliIO } from './io.js';

/** Options every compute command accepts. */
export interface EngineFlags {
  engine?: EngineChoice;
  threads?: number;
}

/** Wraps a library parser so commander reports its message as an invalid-argument error. */
export function asArgParser<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      if (error instanceof TopdownUsageError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  };
}

/** `--engine`, for the commands that take it (TOPDOWN_ENGINE when it is not given). */
export function engineOption(): Option {
  return new Option('--engine <name>', 'compute engine (default: TOPDOWN_ENGINE, else auto)').choices(
    ENGINE_NAMES,
  );
}

/**
 * `--threads`, 1 to MAX_THREADS (TOPDOWN_THREADS when it is not given); the runner commands describe it as
 * each run's threads.
 */
export function threadsOption(
  description = 'engine threads (default: TOPDOWN_THREADS, else all cores)',
): Option {
  return new Option('--threads <n>', description).argParser(asArgParser((v) => parseThreads(v, '--threads')));
}

/**
 * The engine a run's resolved config should use: TOPDOWN_ENGINE in place of `auto` unless `--engine` was
 * given on the command line (a config file or preset that names `auto`, as every resolved config does, defers
 * to the variable). TOPDOWN_ENGINE and TOPDOWN_THREADS are checked either way, so that a bad value is refused
 * before anything is written.
 */
export function configEngine(configured: EngineChoice, flagGiven: boolean): EngineChoice {
  const env = checkEngineEnvironment();
  return !flagGiven && configured === 'auto' && env ? env : configured;
}

/** The one-line notice for an `auto` selection that passed over a faster engine, if it did. */
export function fallbackNotice(selection: EngineSelection): string | null {
  if (!selection.fallbackReason) return null;
  const wasm = selection.wasmReason ? `; wasm engine unavailable (${selection.wasmReason})` : '';
  return `blas engine unavailable (${selection.fallbackReason})${wasm}; using the ${selection.engine.name} engine`;
}

/** Creates the engine the flags ask for; prints the one-line notice when `auto` falls back. */
export function engineFromFlags(flags: EngineFlags, io: CliIO, quietFallback = false): EngineSelection {
  const selection = createEngine(flags);
  const notice = fallbackNotice(selection);
  if (notice && !quietFallback) io.err(`topdown: notice: ${notice}\n`);
  return selection;
}

/**
 * The engines a benchmark measures: with no --engine (nor TOPDOWN_ENGINE) or `auto`, every available one
 * (blas, wasm, js, the one `auto` picks first), each unavailable one named in a notice line; otherwise just
 * the one named.
 */
export function enginesToMeasure(flags: EngineFlags, io: CliIO): Engine[] {
  const choice = flags.engine ?? engineFromEnvironment();
  if (choice && choice !== 'auto') return [engineFromFlags({ ...flags, engine: choice }, io).engine];
  const engines: Engine[] = [];
  for (const name of ['blas', 'wasm'] as const) {
    try {
      engines.push(createEngine({ ...flags, engine: name }).engine);
    } catch (error) {
      if (!(error instanceof TopdownUnavailableError)) throw error;
      io.err(`topdown: notice: ${error.message}; not measured\n`);
    }
  }
  engines.push(new JsEngine());
  return engines;
}

/** Engine pairs whose throughput ratio benchmarks report (both measured in the same run). */
export const RATIO_PAIRS = [
  ['blas', 'js', 'blas_over_js'],
  ['wasm', 'js', 'wasm_over_js'],
  ['wasm', 'blas', 'wasm_over_blas'],
] as const;

/**
 * Checks TOPDOWN_ENGINE and TOPDOWN_THREADS (for the commands that start runs in child processes, which read
 * them: a bad value is one line before anything is planned or written, not one failed run each); returns the
 * engine TOPDOWN_ENGINE names, if any.
 */
export function checkEngineEnvironment(): EngineChoice | undefined {
  threadsFromEnvironment();
  return engineFromEnvironment();
}
