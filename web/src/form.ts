/**
 * The settings panel, generated from the option schemas: the dataset, the rules to train side by side, the
 * core options (the common ones first, the rest folded), and each rule section's options for the rules
 * chosen. Every field is a labelled native control, so the panel is operable from the keyboard.
 */
import { parseFieldText } from '../../src/core/field-values.js';
import { defaultText, type OptionField } from '../../src/core/options.js';
import { DATASETS } from '../../src/data/datasets.js';
import { RULE_NAMES, ruleDefinition, type RuleName } from '../../src/rules/registry.js';

import { h } from './dom.js';
import { PAGE_DATASETS, coreFormFields, sectionGroups, type PageState } from './page-state.js';

/** Core options shown unfolded: the ones a first run changes. */
const FIRST_OPTIONS = ['hidden', 'epochs', 'batch-size', 'lr', 'seed', 'train-subset', 'test-subset'];

export interface FormHandlers {
  /** Any value changed (the state is already updated). */
  change(): void;
  /** The dataset changed. */
  dataset(): void;
  /** Files picked or dropped. */
  files(files: File[]): void;
  action(name: 'train' | 'pause' | 'step' | 'reset' | 'share' | 'export' | 'import', detail?: File[]): void;
}

function control(
  field: OptionField,
  state: PageState,
  onChange: (text: string, el: HTMLElement) => void,
): HTMLElement {
  const id = `opt-${field.flag}`;
  const text = state.values[field.flag];
  let el: HTMLInputElement | HTMLSelectElement;
  if (field.kind === 'enum') {
    const select = h('select', { id, name: field.flag });
    const chosen = text ?? String(field.default ?? '');
    for (const c of field.choices ?? []) select.append(h('option', { value: c, selected: c === chosen }, c));
    el = select;
    select.addEventListener('change', () => onChange(select.value, select));
  } else if (field.kind === 'boolean') {
    const box = h('input', { id, name: field.flag, type: 'checkbox' });
    box.checked = (text ?? String(field.default ?? false)) === 'true';
    el = box;
    box.addEventListener('change', () => onChange(String(box.checked), box));
  } else {
    const input = h('input', {
      id,
      name: field.flag,
      type: 'text',
      inputmode: field.kind === 'integer' || field.kind === 'number' ? 'decimal' : undefined,
      placeholder: defaultText(field) || undefined,
      autocomplete: 'off',
    });
    input.value = text ?? '';
    el = input;
    input.addEventListener('change', () => onChange(input.value, input));
  }
  const help = h('span', { class: 'muted', id: `${id}-help`, hidden: true }, field.description);
  el.setAttribute('aria-describedby', `${id}-help`);
  el.title = field.description;
  return h('div', { class: 'field' }, h('label', { for: id }, field.flag), el, help);
}

/** Renders the panel into `root` (again after the rules change, since the sections shown depend on them). */
export function renderForm(
  root: HTMLElement,
  state: PageState,
  served: readonly string[] | null,
  handlers: FormHandlers,
  message: (text: string | null) => void,
): void {
  root.replaceChildren();
  const set = (field: OptionField) => (text: string, el: HTMLElement) => {
    try {
      if (text.trim() !== '' || field.kind === 'list') parseFieldText(field, text.trim());
      el.removeAttribute('aria-invalid');
      message(null);
    } catch (error) {
      el.setAttribute('aria-invalid', 'true');
      message((error as Error).message);
    }
    if (text === '' && field.kind !== 'list') delete state.values[field.flag];
    else state.values[field.flag] = text;
    handlers.change();
  };

  // data
  const dataset = h('select', { id: 'opt-data', name: 'data' });
  for (const name of PAGE_DATASETS) {
    const available = served === null || served.includes(name);
    dataset.append(
      h(
        'option',
        { value: name, selected: name === state.data },
        `${DATASETS[name].title}${available ? '' : ' (drop its files)'}`,
      ),
    );
  }
  dataset.addEventListener('change', () => {
    state.data = dataset.value as PageState['data'];
    handlers.change();
    handlers.dataset();
  });
  const picker = h('input', {
    id: 'data-files',
    type: 'file',
    multiple: true,
    'aria-label': 'dataset files',
  });
  picker.addEventListener('change', () => picker.files && handlers.files([...picker.files]));
  const drop = h(
    'div',
    { class: 'drop', id: 'drop' },
    h('span', {}, 'Drop the official files here (IDX .gz, CIFAR binary or its .tar.gz), or pick them: '),
    picker,
  );
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer?.files.length) handlers.files([...e.dataTransfer.files]);
  });
  root.append(
    h(
      'fieldset',
      {},
      h('legend', {}, 'Data'),
      h('div', { class: 'field' }, h('label', { for: 'opt-data' }, 'dataset'), dataset),
      served ? h('p', { class: 'muted' }, `Served by topdown web: ${served.join(', ') || 'none'}.`) : null,
      drop,
    ),
  );

  // rules, side by side
  const rules = h('fieldset', {}, h('legend', {}, 'Rules (trained side by side)'));
  for (const name of RULE_NAMES) {
    const box = h('input', { type: 'checkbox', id: `rule-${name}`, name: 'rule', value: name });
    box.checked = state.rules.includes(name);
    box.addEventListener('change', () => {
      const chosen = RULE_NAMES.filter((r) => (r === name ? box.checked : state.rules.includes(r)));
      if (chosen.length === 0) {
        box.checked = true;
        message('choose at least one rule');
        return;
      }
      state.rules = chosen as RuleName[];
      handlers.change();
      renderForm(root, state, served, handlers, message);
      document.getElementById(`rule-${name}`)?.focus();
    });
    rules.append(
      h(
        'div',
        { class: 'rule' },
        h('label', { for: `rule-${name}` }, box, ` ${name}`),
        h('span', { class: 'muted' }, ruleDefinition(name).description),
      ),
    );
  }
  root.append(rules);

  // core options
  const core = coreFormFields();
  const first = core.filter((f) => FIRST_OPTIONS.includes(f.flag));
  const rest = core.filter((f) => !FIRST_OPTIONS.includes(f.flag));
  const more = h(
    'details',
    {},
    h('summary', {}, 'more options'),
    ...rest.map((f) => control(f, state, set(f))),
  );
  root.append(
    h(
      'fieldset',
      {},
      h('legend', {}, 'Network and training'),
      ...first.map((f) => control(f, state, set(f))),
      more,
    ),
  );

  // the sections of the rules chosen
  for (const group of sectionGroups()) {
    const users = group.rules.filter((r) => state.rules.includes(r));
    if (users.length === 0) continue;
    const fields = group.toggle ? [group.toggle, ...group.fields] : group.fields;
    root.append(
      h(
        'fieldset',
        {},
        h('legend', {}, `${group.section.label} (${users.join(', ')})`),
        ...fields.map((f) => control(f, state, set(f))),
      ),
    );
  }

  // actions
  const button = (
    id: string,
    label: string,
    name: Parameters<FormHandlers['action']>[0],
    primary = false,
  ) => {
    const b = h('button', { type: 'button', id, class: primary ? 'primary' : undefined }, label);
    b.addEventListener('click', () => handlers.action(name));
    return b;
  };
  const importer = h('input', {
    type: 'file',
    id: 'import-files',
    multiple: true,
    'aria-label': 'checkpoint.bin to continue, or metrics.jsonl to view',
  });
  importer.addEventListener('change', () => importer.files && handlers.action('import', [...importer.files]));
  root.append(
    h(
      'div',
      { class: 'buttons' },
      button('train', 'Train', 'train', true),
      button('pause', 'Pause', 'pause'),
      button('step', 'Step one batch', 'step'),
      button('reset', 'Reset', 'reset'),
    ),
    h(
      'div',
      { class: 'buttons' },
      button('share', 'Copy link', 'share'),
      button('export', 'Export run', 'export'),
    ),
    h('div', { class: 'field' }, h('label', { for: 'import-files' }, 'continue or view a run'), importer),
  );
}
