// The run test/browser/train-page.ts trains in Chromium and test/wasm-browser.test.ts in Node.
/** A small seeded PEPITA run on the synthetic task. */
export const BROWSER_RUN = {
  rule: 'pepita',
  hidden: [64],
  epochs: 2,
  batchSize: 16,
  lr: 0.05,
  decayEpochs: [],
  seed: 7,
} as const;
