/**
 * The page: settings from the URL, the training worker, the data (served by `topdown web` or dropped), the
 * live charts and figures, the image strip and the theory panel.
 */
import { DATASETS, type DatasetName } from '../../src/data/datasets.js';
import type { NamedFile } from '../../src/data/assemble.js';
import type { EpochLogs } from '../../src/train/trainer.js';

import { LiveCharts, type RunView } from './charts.js';
import { h } from './dom.js';
import { renderForm, type FormHandlers } from './form.js';
import { parsePageUrl, queryFromState, runInputs, stateProblem } from './page-state.js';
import type { HostStatus, PageMessage, WorkerMessage } from './protocol.js';
import { drawStrip } from './strip.js';
import { TheoryPanel } from './theory-panel.js';
import { theoryQuery } from './theory-state.js';

/** The served data folder's index (see `topdown web`). */
interface ServedIndex {
  datasets: { name: DatasetName; files: { name: string; url: string }[] }[];
}

/** Running points kept per run for the per-batch view (older ones are thinned). */
const MAX_BATCH_POINTS = 2000;

const $ = (id: string) => document.getElementById(id)!;
// every value of the link held to its control's range; what was changed is said above the panels
const fromUrl = parsePageUrl(location.search);
const state = fromUrl.state;
const theory = fromUrl.theory;
let tab = fromUrl.tab;
if (fromUrl.notes.length) {
  const notice = h(
    'div',
    { id: 'url-notice', role: 'note', class: 'muted' },
    h('p', {}, 'Some values of this link were outside what the controls take:'),
    h('ul', {}, ...fromUrl.notes.map((n) => h('li', {}, n))),
  );
  document.querySelector('main')?.prepend(notice);
}

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (m: PageMessage, transfer: Transferable[] = []) => worker.postMessage(m, transfer);
const charts = new LiveCharts($('charts'));
let runs: RunView[] = [];
let status: HostStatus = 'empty';
let served: ServedIndex | null = null;
let loadedData: DatasetName | null = null;
let engineLine = '';
let startWhenConfigured = false;
let shape: readonly [number, number, number] = DATASETS[state.data].shape;
const strips = new Map<number, HTMLElement>();

function message(text: string | null): void {
  const el = $('message');
  el.hidden = text === null;
  el.textContent = text ?? '';
}

function setStatus(text: string): void {
  $('status').textContent = text;
}

function pageUrl(): string {
  const params = new URLSearchParams(queryFromState(state));
  theoryQuery(theory, params);
  if (tab === 'theory') params.set('tab', 'theory');
  return `${location.origin}${location.pathname}?${params.toString().replace(/%2C/g, ',')}`;
}

function syncUrl(): void {
  history.replaceState(null, '', pageUrl());
}

/** The current figures as text, one line per run, for screen readers and a quick read. */
function writeFigures(): void {
  const list = h('ul');
  for (const run of runs) {
    const last = run.epochs.filter((e) => e.phase === undefined).at(-1);
    const epochs = run.planned ?? 0;
    const parts = [`${run.label}:`];
    if (last) {
      parts.push(
        `epoch ${last.epoch}${epochs ? ` of ${Math.max(epochs, last.epoch)}` : ''}, test accuracy ${(100 * last.test_acc).toFixed(1)}%, train loss ${last.train_loss.toFixed(3)}, ${Math.round(last.samples_per_s).toLocaleString('en')} samples/s`,
      );
      if (typeof last.angle_deg === 'number')
        parts.push(`, angle F vs forward path ${last.angle_deg.toFixed(1)} deg`);
    } else parts.push('not trained yet');
    list.append(h('li', {}, parts.join(' ').replace(' , ', ', ')));
  }
  $('figures').replaceChildren(list);
}

/** Train curves per batch (running means within each epoch) or per epoch; `auto`: per batch in the first epoch. */
const axis = h('select', { id: 'x-axis' });
for (const [value, label] of [
  ['auto', 'per batch during the first epoch, then per epoch'],
  ['batch', 'per batch (running mean within each epoch)'],
  ['epoch', 'per epoch'],
])
  axis.append(h('option', { value }, label));
axis.addEventListener('change', () => redraw(true));
$('charts').before(h('p', { class: 'muted' }, h('label', { for: 'x-axis' }, 'train curves: '), axis));

function redraw(now = false): void {
  const perBatch = axis.value === 'batch' || (axis.value === 'auto' && (runs[0]?.epochs.length ?? 0) < 2);
  charts.update(runs, perBatch, now);
  writeFigures();
}

function onWorker(m: WorkerMessage): void {
  switch (m.type) {
    case 'ready':
      engineLine = `${m.engine} engine, ${m.threads} thread${m.threads > 1 ? 's' : ''}${m.shared ? ' (shared memory)' : ''}, ${m.variant}`;
      setStatus(`${engineLine}. Loading data...`);
      void loadServed();
      return;
    case 'data':
      loadedData = m.dataset;
      shape = DATASETS[m.dataset].shape;
      setStatus(
        `${engineLine}. ${m.dataset}: ${m.train.toLocaleString('en')} training and ${m.test.toLocaleString('en')} test samples. Press Train.`,
      );
      message(null);
      return;
    case 'configured':
      runs = m.runs.map((r) => ({
        label: r.label,
        planned: r.config.epochs,
        epochs: [...r.history],
        batches: [],
        histogram: null,
      }));
      strips.clear();
      $('strip').replaceChildren();
      redraw(true);
      if (startWhenConfigured) {
        startWhenConfigured = false;
        send({ type: 'start' });
      }
      return;
    case 'progress': {
      const run = runs[m.run];
      if (!run) return;
      run.batches.push({
        x: m.logs.epoch - 1 + m.logs.batch / m.logs.batches,
        loss: m.logs.loss,
        acc: m.logs.acc,
      });
      if (run.batches.length > MAX_BATCH_POINTS) run.batches = run.batches.filter((_, i) => i % 2 === 0);
      redraw();
      return;
    }
    case 'epoch':
      runs[m.run]?.epochs.push(m.logs as EpochLogs);
      redraw();
      return;
    case 'views': {
      const box = h('div', {});
      drawStrip(box, `${runs[m.run]?.label ?? `run ${m.run + 1}`}, epoch ${m.epoch}`, m.rows, shape);
      strips.set(m.run, box);
      $('strip').replaceChildren(...[...strips.keys()].sort().map((k) => strips.get(k)!));
      return;
    }
    case 'histogram':
      if (runs[m.run]) runs[m.run]!.histogram = m.histogram;
      redraw();
      return;
    case 'status':
      status = m.status;
      updateButtons();
      if (m.status === 'done') {
        redraw(true);
        setStatus(`${engineLine}. Done. Memory in use: ${(m.memoryBytes / 2 ** 20).toFixed(0)} MiB.`);
      } else if (m.status === 'running') setStatus(`${engineLine}. Training...`);
      else if (m.status === 'paused') setStatus(`${engineLine}. Paused.`);
      return;
    case 'exported':
      download(`checkpoint.bin`, m.checkpoint, 'application/octet-stream');
      download(`metrics.jsonl`, m.metrics, 'application/x-ndjson');
      download(`config.json`, m.config, 'application/json');
      setStatus(
        `Exported ${m.name}: put checkpoint.bin, metrics.jsonl and config.json in one folder, then run: topdown eval FOLDER`,
      );
      return;
    case 'error':
      message(m.message);
      if (m.during === 'data') setStatus(`${engineLine}. The files could not be read.`);
      return;
    case 'notice':
      setStatus(m.message);
      return;
  }
}
worker.onmessage = (event: MessageEvent<WorkerMessage>) => onWorker(event.data);
worker.onerror = (event) => message(`the training worker failed: ${event.message}`);

function download(name: string, content: Uint8Array | string, type: string): void {
  const url = URL.createObjectURL(new Blob([content as BlobPart], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function updateButtons(): void {
  const pause = $('pause') as HTMLButtonElement;
  // after Step, Pause or loading a checkpoint, the same button goes on (Train would start the runs afresh)
  pause.textContent = status === 'paused' ? 'Resume' : status === 'ready' ? 'Start' : 'Pause';
  pause.disabled = status === 'empty' || status === 'done';
  ($('step') as HTMLButtonElement).disabled = status === 'running' || status === 'empty' || status === 'done';
  ($('reset') as HTMLButtonElement).disabled = status === 'empty';
  ($('export') as HTMLButtonElement).disabled = status === 'empty' || status === 'running';
}

async function loadServed(): Promise<void> {
  if (served === null) {
    try {
      const response = await fetch('data/index.json');
      served = response.ok ? ((await response.json()) as ServedIndex) : { datasets: [] };
    } catch {
      served = { datasets: [] };
    }
    drawForm();
  }
  const entry = served.datasets.find((d) => d.name === state.data);
  if (!entry) {
    setStatus(`${engineLine}. Drop or pick the ${state.data} files to train on them.`);
    return;
  }
  setStatus(`${engineLine}. Fetching ${state.data}...`);
  try {
    const files: NamedFile[] = [];
    for (const f of entry.files) {
      const response = await fetch(f.url);
      if (!response.ok) throw new Error(`cannot fetch ${f.url} (HTTP ${response.status})`);
      files.push({ name: f.name, bytes: new Uint8Array(await response.arrayBuffer()) });
    }
    send(
      { type: 'data', dataset: state.data, files },
      files.map((f) => f.bytes.buffer),
    );
  } catch (error) {
    message((error as Error).message);
  }
}

async function readFiles(list: File[]): Promise<NamedFile[]> {
  return Promise.all(list.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
}

const handlers: FormHandlers = {
  change: () => {
    syncUrl();
  },
  dataset: () => {
    loadedData = null;
    void loadServed();
  },
  files: (list) => {
    void readFiles(list).then((files) => {
      setStatus(`${engineLine}. Reading ${files.map((f) => f.name).join(', ')}...`);
      send(
        { type: 'data', dataset: state.data, files },
        files.map((f) => f.bytes.buffer),
      );
    });
  },
  action: (name, detail) => {
    switch (name) {
      case 'train': {
        const problem = stateProblem(state);
        if (problem) return message(problem);
        if (loadedData !== state.data)
          return message(
            `load the ${state.data} files first (drop them, or serve a data folder with topdown web)`,
          );
        message(null);
        startWhenConfigured = true;
        send({ type: 'configure', runs: runInputs(state) });
        return;
      }
      case 'pause':
        send({ type: status === 'running' ? 'pause' : 'start' });
        return;
      case 'step':
        send({ type: 'step' });
        return;
      case 'reset':
        send({ type: 'reset' });
        return;
      case 'share': {
        const url = pageUrl();
        syncUrl();
        void navigator.clipboard?.writeText(url).catch(() => undefined);
        setStatus(`Link to these settings (copied): ${url}`);
        return;
      }
      case 'export':
        runs.forEach((_, i) => send({ type: 'export', run: i }));
        return;
      case 'import': {
        const checkpoint = (detail ?? []).find((f) => f.name.endsWith('.bin'));
        const metrics = (detail ?? []).find((f) => f.name.endsWith('.jsonl'));
        if (!checkpoint && metrics) {
          // a run's metrics alone: shown, not continued
          void metrics.text().then((text) => {
            try {
              const epochs = text
                .split('\n')
                .filter((l) => l.trim())
                .map((l) => JSON.parse(l) as EpochLogs);
              runs = [{ label: `${metrics.name} (viewed)`, epochs, batches: [], histogram: null }];
              message(null);
              redraw(true);
            } catch {
              message(`${metrics.name}: not a metrics.jsonl (one JSON object per line)`);
            }
          });
          return;
        }
        if (!checkpoint)
          return message('pick the checkpoint.bin (to continue) or metrics.jsonl (to view) of a run folder');
        if (loadedData === null) return message('load the dataset the run was trained on first');
        void checkpoint.arrayBuffer().then((buffer) => {
          const epochs = Number(runInputs(state)[0]?.epochs ?? 0) || undefined;
          send(
            {
              type: 'import',
              name: checkpoint.name,
              bytes: new Uint8Array(buffer),
              ...(epochs ? { epochs } : {}),
            },
            [buffer],
          );
        });
        return;
      }
    }
  },
};

function drawForm(): void {
  renderForm($('controls'), state, served ? served.datasets.map((d) => d.name) : null, handlers, message);
  updateButtons();
}

// tabs
let theoryPanel: TheoryPanel | null = null;
function showTab(which: 'train' | 'theory'): void {
  tab = which;
  $('panel-train').hidden = which !== 'train';
  $('panel-theory').hidden = which !== 'theory';
  $('tab-train').setAttribute('aria-selected', String(which === 'train'));
  $('tab-theory').setAttribute('aria-selected', String(which === 'theory'));
  if (which === 'theory' && !theoryPanel) {
    theoryPanel = new TheoryPanel(
      $('panel-theory'),
      theory,
      syncUrl,
      () => new Worker(new URL('./theory-worker.ts', import.meta.url), { type: 'module' }),
    );
    theoryPanel.start();
  }
  syncUrl();
}
$('tab-train').addEventListener('click', () => showTab('train'));
$('tab-theory').addEventListener('click', () => showTab('theory'));

drawForm();
showTab(tab);
send({ type: 'init', kernelsUrl: new URL('./wasm/', location.href).href });

/** For tests and the curious: the state of the page. */
(window as unknown as { __topdown: unknown }).__topdown = {
  get status() {
    return status;
  },
  get runs() {
    return runs;
  },
  charts,
  get theory() {
    return theoryPanel;
  },
};
