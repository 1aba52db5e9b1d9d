/** Worker-thread entry: runs one simulation and posts progress and the trajectory back. */
import { parentPort, workerData } from 'node:worker_threads';

import type { TimeGrid } from './grid.js';
import type { Instance } from './instance.js';
import type { TheoryProblem, TheoryRule } from './problem.js';
import { simulate } from './simulate.js';

export interface SimJob {
  rule: TheoryRule;
  problem: TheoryProblem;
  instance: Instance;
  seed: number;
  grid: TimeGrid;
}

const job = workerData as SimJob;
const trajectory = simulate(job.rule, job.problem, job.instance, job.seed, job.grid, {
  onProgress: (fraction) => parentPort!.postMessage({ type: 'progress', fraction }),
});
parentPort!.postMessage({ type: 'done', trajectory });
