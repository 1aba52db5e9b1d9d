import { InvalidArgumentError, Option } from 'commander';

import {
  createEngine,
  ENGINE_NAMES,
  parseThreads,
  type EngineChoice,
  type EngineSelection,
} from '../core/engine.js';
import { TopdownUsageError } from '../core/errors.js';

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
  return new Option('--threads <n>', 'OpenBLAS threads (default: TOPDOWN_THREADS, else all cores)').argParser(
    asArgParser((v) => parseThreads(v, '--threads')),
  );
}

/** Creates the engine the flags ask for; prints the one-line notice when `auto` falls back to `js`. */
export function engineFromFlags(flags: EngineFlags, io: CliIO, quietFallback = false): EngineSelection {
  const selection = createEngine(flags);
  if (selection.fallbackReason && !quietFallback) {
    io.err(`topdown: notice: blas engine unavailable (${selection.fallbackReason}); using the js engine\n`);
  }
  return selection;
}
