/** Terminal progress for training: a live bar with rate and ETA on a TTY, one line per epoch otherwise. */
import type { BatchLogs, EpochLogs, TrainCallbacks } from '../train/trainer.js';

import type { CliIO } from './io.js';

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

const pct = (v: number | undefined): string => (v === undefined ? '-' : `${(100 * v).toFixed(2)}%`);

/** Prints progress to stderr; `live` draws the bar (TTY only). */
export function progressCallbacks(io: CliIO, totalEpochs: number, live: boolean): TrainCallbacks {
  let lastDraw = 0;
  const label = (logs: { epoch: number; phase?: string }): string =>
    logs.phase ? `${logs.phase} epoch` : `epoch ${logs.epoch}/${totalEpochs}`;
  let epochStart = 0;
  const epochSeconds: number[] = [];
  return {
    onEpochBegin() {
      epochStart = performance.now();
    },
    onBatchEnd(logs: BatchLogs) {
      if (!live) return;
      const now = performance.now();
      if (now - lastDraw < 100 && logs.batch < logs.batches) return;
      lastDraw = now;
      const width = 24;
      const filled = Math.round((width * logs.batch) / logs.batches);
      const elapsed = (now - epochStart) / 1000;
      const perEpoch = epochSeconds.length
        ? epochSeconds.reduce((a, b) => a + b, 0) / epochSeconds.length
        : (elapsed * logs.batches) / logs.batch;
      const remaining =
        (perEpoch * (logs.batches - logs.batch)) / logs.batches + perEpoch * (totalEpochs - logs.epoch);
      io.err(
        `\r\x1b[K${label(logs)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` +
          `${logs.batch}/${logs.batches}  ${logs.samples_per_s.toFixed(0)} samples/s  ETA ${duration(remaining)}  ` +
          `loss ${logs.loss.toFixed(4)}  acc ${pct(logs.acc)}`,
      );
    },
    onEpochEnd(logs: EpochLogs) {
      epochSeconds.push(logs.seconds);
      const angle = typeof logs.angle_deg === 'number' ? `  angle ${logs.angle_deg.toFixed(1)} deg` : '';
      const val = typeof logs.val_acc === 'number' ? `  val ${pct(logs.val_acc)}` : '';
      io.err(
        `${live ? '\r\x1b[K' : ''}${label(logs)}  train loss ${logs.train_loss.toFixed(4)} acc ${pct(logs.train_acc)}` +
          `${val}  test ${pct(logs.test_acc)}${angle}  ${logs.seconds.toFixed(1)} s  ${logs.samples_per_s.toFixed(0)} samples/s\n`,
      );
    },
  };
}
