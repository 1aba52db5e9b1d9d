/**
 * Teacher-student theory: problem, finite-D instances, closed-form integrals, order-parameter ODEs, the online
 * simulator and experiments that run both (docs/theory.md).
 * @packageDocumentation
 */
export * from './problem.js';
export * from './budget.js';
export * from './instance.js';
export * from './integrals.js';
export * from './observables.js';
export * from './grid.js';
export * from './ode.js';
export * from './solve.js';
export * from './simulate.js';
export * from './parallel.js';
export * from './trajectory.js';
export * from './experiment.js';
