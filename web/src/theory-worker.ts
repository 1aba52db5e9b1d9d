/** The theory panel's worker: finite-D online simulations of the teacher-student problem, one per rule and seed. */
import { timeGrid } from '../../src/theory/grid.js';
import { sampleInstance } from '../../src/theory/instance.js';
import { resolveTheoryProblem, type TheoryRule } from '../../src/theory/problem.js';
import { simulate } from '../../src/theory/simulate.js';
import type { Trajectory } from '../../src/theory/trajectory.js';

/** A request: the problem (as the schema reads it), the rules and the seeds per rule. */
export interface SimRequest {
  id: number;
  problem: unknown;
  rules: TheoryRule[];
  seeds: number;
}

/** Progress and the result of a request. */
export type SimReply =
  | { id: number; type: 'progress'; fraction: number }
  | { id: number; type: 'done'; trajectories: Trajectory[] }
  | { id: number; type: 'error'; message: string };

interface Scope {
  onmessage: ((event: { data: SimRequest }) => void) | null;
  postMessage(message: SimReply): void;
}
const scope = globalThis as unknown as Scope;

scope.onmessage = ({ data }) => {
  try {
    const problem = resolveTheoryProblem(data.problem, 'theory panel');
    const instance = sampleInstance(problem);
    const grid = timeGrid(problem);
    const jobs = data.rules.flatMap((rule) =>
      Array.from({ length: data.seeds }, (_, seed) => ({ rule, seed })),
    );
    const trajectories = jobs.map((job, i) =>
      simulate(job.rule, problem, instance, job.seed, grid, {
        onProgress: (f) =>
          scope.postMessage({ id: data.id, type: 'progress', fraction: (i + f) / jobs.length }),
      }),
    );
    scope.postMessage({ id: data.id, type: 'done', trajectories });
  } catch (error) {
    scope.postMessage({ id: data.id, type: 'error', message: (error as Error).message });
  }
};
