/**
 * One teacher-student problem, shared by the online simulator and the ODE integrator so that both start from
 * the same initial weights (spec section 3). All defaults live in this schema.
 */
import { z } from 'zod';

import { TopdownUsageError } from '../core/errors.js';

/** Rules of the theory: PEPITA (two forward passes), its first-order form AFA, DFA, FA and BP. */
export const THEORY_RULES = ['pepita', 'afa', 'dfa', 'fa', 'bp'] as const;
export type TheoryRule = (typeof THEORY_RULES)[number];

/** How F enters the adaptive feedback b = kappa * S with S = w . F / D (see docs/theory.md). */
export const FEEDBACK_NORMALISATIONS = ['self-averaging', 'raw'] as const;
/** F drawn independently of the student, or as a mix of the initial student vectors plus noise. */
export const FEEDBACK_DRAWS = ['random', 'student-mix'] as const;
export const SECOND_LAYER_INITS = ['gaussian', 'ones'] as const;
export const TEACHER_SECOND_LAYERS = ['uniform', 'gaussian'] as const;
/** eps_g = 1/2 E[(yhat - y)^2] (`half`, Saad & Solla) or the plain mean squared error (`mse`). */
export const EG_CONVENTIONS = ['half', 'mse'] as const;

const positiveInt = z.number().int().positive();

const FeedbackSchema = z
  .object({
    draw: z.enum(FEEDBACK_DRAWS).default('random'),
    /** Coefficients c_k of F = sum_k c_k w_k(0) + xi for the `student-mix` draw (missing ones are 0). */
    mix: z.array(z.number()).default([1, -0.5]),
    /** PEPITA's modulation strength epsilon: x_mod = x + eps * kappa * Delta * F / sqrt(D). */
    scale: z.number().positive().default(0.001),
    normalisation: z.enum(FEEDBACK_NORMALISATIONS).default('self-averaging'),
  })
  .strict();

export const TheoryProblemSchema = z
  .object({
    // its memory and the simulations' steps are checked against the run's limits (see budget.ts)
    D: z.number().int().min(2).default(500),
    K: positiveInt.max(8).default(2),
    M: positiveInt.max(8).default(2),
    /** Only erf(z / sqrt 2) has the closed-form integrals the ODEs use. */
    activation: z.literal('erf').default('erf'),
    /** First-layer rate eta (applied as eta / sqrt(D) per step). */
    lr: z.number().positive().default(0.05),
    /** Second-layer rate eta_v (applied as eta_v / D per step); defaults to `lr`. */
    lrSecond: z.number().positive().optional(),
    trainSecondLayer: z.boolean().default(true),
    teacherSecondLayer: z.enum(TEACHER_SECOND_LAYERS).default('uniform'),
    /** Standard deviation of the label noise added to the teacher's output during training. */
    noise: z.number().nonnegative().default(0),
    feedback: FeedbackSchema.default(FeedbackSchema.parse({})),
    /** Entries of DFA's (and FA's) fixed feedback vector b ~ N(0, std^2). */
    dfaFeedbackStd: z.number().positive().default(1),
    /** Student initial weights: w_k ~ N(0, firstLayerStd^2 I_D), v_k ~ N(0, secondLayerStd^2). */
    firstLayerStd: z.number().nonnegative().default(1),
    secondLayerStd: z.number().nonnegative().default(1),
    /** `gaussian`: v_k ~ N(0, secondLayerStd^2); `ones`: v_k = 1 (with trainSecondLayer false: the soft committee machine). */
    secondLayerInit: z.enum(SECOND_LAYER_INITS).default('gaussian'),
    /** Time t = steps / D; the grid is t = 0 plus `points` log-spaced times in [tMin, tMax]. */
    tMax: z.number().positive().default(4000),
    tMin: z.number().positive().default(0.01),
    points: positiveInt.max(10_000).default(60),
    egConvention: z.enum(EG_CONVENTIONS).default('half'),
    /** Seed of the initial weights (teacher, student, F, DFA feedback). */
    seed: z.number().int().nonnegative().default(0),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.tMin >= p.tMax) ctx.addIssue({ code: 'custom', path: ['tMin'], message: 'must be below tMax' });
  });

export type TheoryProblem = z.infer<typeof TheoryProblemSchema> & { lrSecond: number };
export type TheoryProblemInput = z.input<typeof TheoryProblemSchema>;

/** Validates and fills defaults; throws a one-line usage error naming the field. */
export function resolveTheoryProblem(input: unknown, source = 'theory problem'): TheoryProblem {
  const result = TheoryProblemSchema.safeParse(input ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      throw new TopdownUsageError(
        `${source}: unknown option(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`,
      );
    }
    const path = issue.path.length ? issue.path.join('.') : '(root)';
    throw new TopdownUsageError(`${source}: ${path}: ${issue.message}`);
  }
  return { ...result.data, lrSecond: result.data.lrSecond ?? result.data.lr };
}

/** kappa in b = kappa * S: 1 for the self-averaging normalisation, sqrt(D) for the raw product W_1 F / sqrt(D). */
export function feedbackGain(problem: TheoryProblem): number {
  return problem.feedback.normalisation === 'raw' ? Math.sqrt(problem.D) : 1;
}

/** The ODE system a rule follows: PEPITA's small-F limit is AFA, and FA equals DFA for one hidden layer. */
export function odeSystemOf(rule: TheoryRule): 'afa' | 'dfa' | 'bp' {
  return rule === 'pepita' || rule === 'afa' ? 'afa' : rule === 'bp' ? 'bp' : 'dfa';
}
