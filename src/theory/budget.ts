/**
 * What a theory experiment may cost, checked before anything is allocated or simulated: the memory of its
 * D-vectors and the online steps of each simulation, against limits the user can raise.
 */
import { availableMemory, MAX_ARRAY_ELEMENTS } from '../core/memory.js';
import { TopdownUsageError } from '../core/errors.js';
import type { TheoryProblem } from './problem.js';

/** Limits of one experiment; unset fields take the defaults below. */
export interface TheoryLimits {
  /** The most online steps (tMax * D) one simulation may take. */
  maxSteps?: number;
  /** The most memory the experiment may plan to use, in GB (default: 80% of what this process may use). */
  maxMemoryGb?: number;
}

/** Default of {@link TheoryLimits.maxSteps}: about 2 hours at the simulator's 5 us a step. */
export const DEFAULT_MAX_SIMULATION_STEPS = 1.5e9;
const DEFAULT_MEMORY_SHARE = 0.8;
const GB = 1e9;
const gb = (bytes: number): string => (bytes >= GB ? (bytes / GB).toFixed(1) : (bytes / GB).toPrecision(2));

/**
 * Bytes of float64 D-vectors an experiment holds: the instance (teacher, student, F) in the main thread, and
 * per concurrent simulation its own copy plus the working rows and the current input.
 */
export function theoryBytes(problem: TheoryProblem, concurrentSimulations: number): number {
  const vectors = problem.K + problem.M + 1;
  return 8 * problem.D * (vectors + concurrentSimulations * (2 * vectors + 1));
}

/**
 * Throws a one-line usage error when the experiment would exceed its limits.
 * @param concurrentSimulations - simulations held in memory at once (0 when only the ODEs are integrated)
 */
export function checkTheoryBudget(
  problem: TheoryProblem,
  concurrentSimulations: number,
  limits: TheoryLimits = {},
): void {
  const rows = (problem.K + problem.M + 1) * problem.D;
  if (rows > MAX_ARRAY_ELEMENTS) {
    throw new TopdownUsageError(
      `D = ${problem.D} needs ${rows.toExponential(2)} values in one array, more than the ${MAX_ARRAY_ELEMENTS.toExponential(2)} an array can hold: lower D`,
    );
  }
  const need = theoryBytes(problem, concurrentSimulations);
  const limit =
    limits.maxMemoryGb !== undefined ? limits.maxMemoryGb * GB : DEFAULT_MEMORY_SHARE * availableMemory();
  if (need > limit) {
    const allowed = limits.maxMemoryGb !== undefined ? '--max-memory' : "80% of this machine's memory";
    throw new TopdownUsageError(
      `D = ${problem.D} needs about ${gb(need)} GB ${concurrentSimulations === 0 ? 'for the ODEs alone' : `with ${concurrentSimulations} simulation${concurrentSimulations === 1 ? '' : 's'} at once`}, more than the ${gb(limit)} GB allowed (${allowed}): lower D or --workers, or raise --max-memory`,
    );
  }
  const maxSteps = limits.maxSteps ?? DEFAULT_MAX_SIMULATION_STEPS;
  const steps = problem.tMax * problem.D;
  if (concurrentSimulations > 0 && steps > maxSteps) {
    throw new TopdownUsageError(
      `tMax * D = ${steps.toExponential(2)} steps per simulation, more than the ${maxSteps.toExponential(2)} allowed (about ${((maxSteps * 5e-6) / 3600).toFixed(0)} hours at 5 us a step): lower tMax or D, simulate with --ode only, or raise --max-steps`,
    );
  }
}
