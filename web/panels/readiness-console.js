// Readiness panel, the console's side: running the check of phase 0.
//
// - renderReadinessConsole: opening a check; while it is open, the counts as they come in,
//   the comments (without names) and recording the group's conclusion (start, or not yet,
//   with a note), which closes it; after that, the conclusion and a new check.
//
// Needs from the store: checks, session (status). Render functions take (store, actions,
// options), see ui.js; with actions null the counts and the conclusion are only shown.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct, choices, countedField, showError, textWithin } from '../ui.js';
import { latestCheck, NOTE_MAX } from '../model.js';
import { readinessCounts, conclusionLine } from './readiness.js';

/** options: { draft: { conclusion, note } }. */
export function renderReadinessConsole(store, actions, { draft = {} } = {}) {
  const check = latestCheck(store);
  const act = canAct(store, actions);
  const open = check?.stage === 'open';
  return h('section', { class: 'panel readiness', id: 'readiness-console', 'aria-labelledby': 'readiness-heading' },
    h('h2', { id: 'readiness-heading' }, t('readinessHeading')),
    h('p', { class: 'hint' }, t('readinessConsoleIntro')),
    open ? readinessCounts(check, { ids: 'fac' }) : null,
    open ? comments(check) : null,
    check && !open ? [
      conclusionLine(check),
      h('details', { class: 'other-phases' }, h('summary', {}, t('countsHeading')), readinessCounts(check, { ids: 'fac' }), comments(check)),
    ] : null,
    act && open ? concludeForm(actions, check, draft) : null,
    act && !open ? h('button', {
      type: 'button', class: check ? 'secondary' : 'primary', id: 'open-check', 'data-key': 'open-check',
      onclick: () => actions.send({ type: 'open_check' }, t('checkOpened')),
    }, check ? t('openCheckAgain') : t('openCheck')) : null);
}

/** The comments given with the answers, without names (the facilitator's view only). */
function comments(check) {
  if (!check.comments?.length) return null;
  return h('div', { class: 'comments' },
    h('h3', { id: 'comments-heading' }, t('commentsHeading', { n: check.comments.length })),
    h('ul', { class: 'comment-list', 'aria-labelledby': 'comments-heading' }, check.comments.map((c) => h('li', { dir: 'auto' }, c))));
}

function concludeForm(actions, check, draft) {
  const onSave = (event) => {
    event.preventDefault();
    if (!draft.conclusion) return showError(t('conclusionMissing'));
    const note = textWithin(draft.note, { min: 0, max: NOTE_MAX, message: t('noteTooLong', { max: NOTE_MAX }) });
    if (note === null) return undefined;
    const cmd = { type: 'conclude_check', check: check.id, conclusion: draft.conclusion };
    if (note) cmd.note = note;
    actions.send(cmd, t(`conclusion.${draft.conclusion}`)).then((result) => {
      if (result) Object.assign(draft, { conclusion: null, note: '' });
    });
    return undefined;
  };
  return h('form', { class: 'conclude-form', id: 'conclude-form', novalidate: true, onsubmit: onSave },
    choices({
      name: 'conclusion', legend: t('conclusionLegend'), className: 'choices answers-row two', chosen: draft.conclusion,
      options: ['start', 'not_yet'].map((c) => ({ value: c, label: t(`conclusionChoice.${c}`) })),
      onChoose: (value) => { draft.conclusion = value; },
    }),
    countedField({
      id: 'conclusion-note', label: t('conclusionNote'), max: NOTE_MAX, value: draft.note || '', attrs: { rows: 2, dir: 'auto' },
      onInput: (value) => { draft.note = value; },
    }),
    h('button', { type: 'submit', class: 'primary', id: 'conclude-check' }, t('concludeButton')));
}
