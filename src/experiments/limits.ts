/** How many runs one command may plan: checked before planning, so a mistyped count is refused at once. */

/** The default of `--max-runs`: a plan of more runs than this is refused before it is made. */
export const DEFAULT_MAX_RUNS = 10_000;

/**
 * The most `--max-runs` may allow: planning resolves and holds every run's configuration (measured on two
 * cores: 10,000 runs 15 s and 150 MB, 100,000 runs 150 s and 480 MB), silently; more is several commands' work.
 */
export const MAX_RUNS_CEILING = 100_000;
