import { InvalidArgumentError, Option } from 'commander';

import {
  JsEngine,
  type Engine,
  createEngine,
  ENGINE_NAMES,
  parseThreads,
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

export function engineOption(): Option {
  return new Option('--engine <name>', 'compute engine (default: TOPDOWN_ENGINE, else auto)').choices(
    ENGINE_NAMES,
  );
}

export function threadsOption(): Option {
  return new Option('--threads <n>', 'engine threads (default: TOPDOWN_THREADS, else all cores)').argParser(
    asArgParser((v) => parseThreads(v, '--threads')),
  );
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
 * The engines a benchmark measures: with no --engine (or `auto`), every available one (blas, wasm, js, the
 * one `auto` picks first), each unavailable one named in a notice line; otherwise just the one named.
 */
export function enginesToMeasure(flags: EngineFlags, io: CliIO): Engine[] {
  if (flags.engine && flags.engine !== 'auto') return [engineFromFlags(flags, io).engine];
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
