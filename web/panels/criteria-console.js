// Criteria panel, the console's side: agreeing on when the group is satisfied, and judging it
// at the end.
//
// - renderCriteriaConsole: every criterion with asking the group (a consent round), recording
//   the decision (agreed or dropped); in phase 5 assessing each agreed one (met, partly, not
//   met, with a note); proposing one; showing them on the big screen.
//
// Needs from the store: criteria, session (phase, display, status). Render functions take
// (store, actions, options), see ui.js; with actions null the criteria are only listed.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct, choices, countedField, foldedForm, showError, textWithin } from '../ui.js';
import { all, criteriaByStatus, ASSESSMENTS, NOTE_MAX } from '../model.js';
import { criterionForm, criterionItem } from './criteria.js';
import { displayToggle } from './table-console.js';

/** The phase in which agreed criteria are assessed. */
const ASSESSED_IN = 5;

/** options: { draft (the propose form's), assessing (Map criterion id → { assessment, note }) }. */
export function renderCriteriaConsole(store, actions, { draft = {}, assessing = new Map() } = {}) {
  const act = canAct(store, actions);
  const assess = store.session.phase === ASSESSED_IN;
  const live = all(store, 'criteria').filter((c) => c.status !== 'dropped');
  const dropped = criteriaByStatus(store, 'dropped');
  const button = (c, key, text, cmd, className = 'secondary small') => h('button', {
    type: 'button', class: className, 'data-key': `${key}-${c.id}`, 'aria-describedby': `criterion-${c.id}`,
    onclick: () => actions.send({ ...cmd, criterion: c.id }, text),
  }, text);
  const more = (c) => {
    if (!act) return null;
    if (c.status === 'proposed') {
      return h('div', { class: 'card-actions' },
        button(c, 'ask', t('askConsent'), { type: 'ask_consent' }, 'primary small'),
        button(c, 'drop', t('dropCriterion'), { type: 'decide_criterion', agreed: false }));
    }
    if (c.status === 'asked') {
      return h('div', { class: 'card-actions' },
        button(c, 'agreed', t('decideAgreed'), { type: 'decide_criterion', agreed: true }, 'primary small'),
        button(c, 'drop', t('decideDropped'), { type: 'decide_criterion', agreed: false }));
    }
    if (c.status === 'agreed' && assess) {
      const form = assessForm(actions, c, assessing);
      return c.assessment ? foldedForm(assessing.get(c.id), t('assessChange'), form) : form;
    }
    return null;
  };
  return h('section', { class: 'panel criteria-panel', id: 'criteria-console', 'aria-labelledby': 'criteria-heading' },
    h('h2', { id: 'criteria-heading' }, t('criteriaHeading')),
    h('p', { class: 'hint' }, assess ? t('criteriaAssessIntro') : t('criteriaConsoleIntro')),
    displayToggle(store, actions, 'criteria'),
    live.length ? h('ul', { class: 'criteria', id: 'criteria-list' }, live.map((c) => criterionItem(c, { more: more(c) }))) : h('p', { class: 'empty' }, t('noCriteria')),
    dropped.length ? h('details', { class: 'other-phases' },
      h('summary', {}, t('droppedCriteria', { n: dropped.length })),
      h('ul', { class: 'criteria' }, dropped.map((c) => criterionItem(c, {
        more: act ? h('div', { class: 'card-actions' }, button(c, 'ask', t('askAgain'), { type: 'ask_consent' })) : null,
      })))) : null,
    act && !assess ? foldedForm(draft, t('proposeCriterion'), criterionForm(store, actions, { draft, ids: 'fcriterion', heading: false })) : null);
}

/** Met, partly or not met, with a note. */
function assessForm(actions, c, assessing) {
  if (!assessing.has(c.id)) assessing.set(c.id, { assessment: c.assessment || null, note: c.assessment_note || '' });
  const draft = assessing.get(c.id);
  const onSave = (event) => {
    event.preventDefault();
    if (!draft.assessment) return showError(t('assessmentMissing'));
    const note = textWithin(draft.note, { min: 0, max: NOTE_MAX, message: t('noteTooLong', { max: NOTE_MAX }) });
    if (note === null) return undefined;
    const cmd = { type: 'assess_criterion', criterion: c.id, assessment: draft.assessment };
    if (note) cmd.note = note;
    actions.send(cmd, t('assessmentSaved')).then((result) => {
      if (result) assessing.delete(c.id);
    });
    return undefined;
  };
  return h('form', { class: 'assess-form', id: `assess-${c.id}`, novalidate: true, onsubmit: onSave },
    choices({
      name: `assess-${c.id}`, legend: t('assessLegend'), className: 'choices answers-row', chosen: draft.assessment,
      options: ASSESSMENTS.map((a) => ({ value: a, label: t(`assessment.${a}`) })),
      onChoose: (value) => { draft.assessment = value; },
    }),
    countedField({
      id: `assess-note-${c.id}`, label: t('assessNote'), max: NOTE_MAX, value: draft.note, attrs: { rows: 2, dir: 'auto' },
      onInput: (value) => { draft.note = value; },
    }),
    h('button', { type: 'submit', class: 'primary small', 'data-key': `assess-save-${c.id}` }, t('saveButton')));
}
