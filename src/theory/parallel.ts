/** Runs simulations on worker threads, at most `workers` at a time (seeds are independent). */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import type { TimeGrid } from './grid.js';
import type { Instance } from './instance.js';
import type { TheoryProblem, TheoryRule } from './problem.js';
import type { SimJob } from './sim-worker.js';
import { simulate } from './simulate.js';
import type { Trajectory } from './trajectory.js';

export interface SimRequest {
  rule: TheoryRule;
  seed: number;
}

export interface ParallelOptions {
  /** Concurrent simulations; 1 (or no compiled worker file, e.g. under a TS test runner) runs in-process. */
  workers?: number;
  /** Progress of every job: called with the overall fraction done. */
  onProgress?: (fraction: number) => void;
}

const workerUrl = new URL('./sim-worker.js', import.meta.url);

/** Whether the compiled worker script is present (it is not when running the TypeScript sources directly). */
export function workersAvailable(): boolean {
  return workerUrl.protocol === 'file:' && existsSync(fileURLToPath(workerUrl));
}

function runInWorker(job: SimJob, onProgress: (fraction: number) => void): Promise<Trajectory> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl, { workerData: job });
    let result: Trajectory | undefined;
    worker.on('message', (message: { type: string; fraction?: number; trajectory?: Trajectory }) => {
      if (message.type === 'progress') onProgress(message.fraction!);
      else result = message.trajectory;
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`simulation worker exited with code ${code} before finishing`));
    });
  });
}

/** Runs every requested simulation and returns the trajectories in request order. */
export async function simulateAll(
  requests: SimRequest[],
  problem: TheoryProblem,
  instance: Instance,
  grid: TimeGrid,
  options: ParallelOptions = {},
): Promise<Trajectory[]> {
  const fractions = new Array<number>(requests.length).fill(0);
  const report = (index: number, fraction: number): void => {
    fractions[index] = fraction;
    options.onProgress?.(fractions.reduce((a, b) => a + b, 0) / requests.length);
  };
  const workers = Math.max(1, Math.min(options.workers ?? 1, requests.length));
  if (workers === 1 || !workersAvailable()) {
    return requests.map((r, index) =>
      simulate(r.rule, problem, instance, r.seed, grid, { onProgress: (f) => report(index, f) }),
    );
  }
  const results = new Array<Trajectory>(requests.length);
  let nextJob = 0;
  const lane = async (): Promise<void> => {
    while (nextJob < requests.length) {
      const index = nextJob++;
      const r = requests[index]!;
      results[index] = await runInWorker({ rule: r.rule, problem, instance, seed: r.seed, grid }, (f) =>
        report(index, f),
      );
    }
  };
  await Promise.all(Array.from({ length: workers }, lane));
  return results;
}
