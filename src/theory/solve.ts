/** The ODE prediction of one rule from an instance's initial order parameters, on the shared grid. */
import type { TimeGrid } from './grid.js';
import { orderParameters, type Instance } from './instance.js';
import { integrate, OrderParameterOde, type IntegrateOptions } from './ode.js';
import type { TheoryProblem, TheoryRule } from './problem.js';
import { observe, type Trajectory } from './trajectory.js';

export function solveOde(
  rule: TheoryRule,
  problem: TheoryProblem,
  initial: Instance,
  grid: TimeGrid,
  options: IntegrateOptions = {},
): Trajectory & { evaluations: number } {
  const op0 = orderParameters(initial);
  const ode = new OrderParameterOde(rule, problem, op0, initial.b);
  const { states, evaluations } = integrate(ode, ode.pack(op0), grid.t, options);
  const points = states.map((y, i) => observe(rule, problem, grid.t[i]!, ode.unpack(y), initial.b));
  return { kind: 'ode', rule, points, evaluations };
}
