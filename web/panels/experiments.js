// Experiments panel: ideas tried out. A title, the idea it came from, a prediction ("if we …,
// then …"), a measure, owners, start and review dates, when to stop, where it stands, and
// afterwards the outcome against the prediction, the decision and its lessons. An experiment
// that did not work is shown exactly as one that did: never hidden, never styled as an error.
//
// - experimentItem (every screen): one experiment with all it holds and its lessons.
// - renderExperiments (phone, console): the experiments, with changing one (for the
//   facilitator, its idea's author and its owners) and adding a lesson about it.
// - renderExperimentsBoard (projector, phases 4 and 5): the experiments in large type.
// Making one from an idea is on the idea's card (cards.js) and in experiments-console.js. A
// phone loads this module only once experiments exist.
//
// Needs from the store: experiments, cards (the idea, the lessons), participants (owners),
// session (phase, status). Render functions take (store, actions, options), see ui.js; with
// actions null there is nothing to press.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct, field, countedField, showError, personName, refreshAndFocus } from '../ui.js';
import {
  all, lessonsAbout, mayChangeExperiment, charCount, shorten, EXPERIMENT_STATUSES, OUTCOMES, DECISIONS,
  EXPERIMENT_TITLE_MAX, EXPERIMENT_TEXT_MAX, OWNER_PARTY_MAX, MAX_OWNERS,
} from '../model.js';

/** The long texts of an experiment, in the order a plan is made. */
const PLAN_TEXTS = ['prediction', 'measure', 'stop_criterion'];
const DATES = ['start', 'review'];

/** A labelled line of an experiment, or null when it is empty. */
function line(label, value, className) {
  if (!value) return null;
  return h('div', { class: `x-line ${className || ''}` },
    h('dt', {}, label),
    h('dd', { dir: 'auto' }, value));
}

/** Who owns it: participants by name (as the report names them, or from the store), and a
 * named group. */
function ownersText(store, e) {
  const names = e.owner_names ? [...e.owner_names] : e.owners.map((id) => personName(store, id));
  if (e.owner_party) names.push(e.owner_party);
  return names.join(', ');
}

/** The dates, "1 Jun 2025 → 15 Jun 2025" (as the phone shows dates). */
function datesText(e) {
  const format = (d) => (d ? new Date(`${d}T12:00:00`).toLocaleDateString(document.documentElement.lang, { day: 'numeric', month: 'short', year: 'numeric' }) : '…');
  if (!e.start && !e.review) return null;
  return t('datesValue', { start: format(e.start), review: format(e.review) });
}

/**
 * One experiment. options: { headingLevel, more (what a screen adds at the end), brief (the big
 * screen: what was expected against what was seen; its lessons are shown apart) }.
 */
export function experimentItem(store, e, { headingLevel = 'h3', more = null, brief = false } = {}) {
  const idea = e.from_card ? store.cards.get(e.from_card) : null;
  const lessons = lessonsAbout(store, `experiment:${e.id}`);
  return h('li', { class: 'experiment', 'data-experiment': e.id, 'data-status': e.status, 'data-outcome': e.outcome || null, 'data-decision': e.decision || null },
    h(headingLevel, { class: 'x-title', id: `x-title-${e.id}`, dir: 'auto' }, e.title),
    h('p', { class: 'x-state' },
      h('span', { class: 'badge x-status' }, t(`xStatus.${e.status}`)),
      e.outcome ? h('span', { class: 'badge x-outcome' }, t(`outcome.${e.outcome}`)) : null,
      e.decision ? h('span', { class: 'badge x-decision' }, t(`decision.${e.decision}`)) : null),
    h('dl', { class: 'x-lines' },
      idea && idea.text !== e.title ? line(t('xFromIdea'), idea.text ? shorten(idea.text) : t('hiddenCard')) : null,
      line(t('xPrediction'), e.prediction),
      brief ? null : [
        line(t('xMeasure'), e.measure),
        line(t('xOwners'), ownersText(store, e)),
        line(t('xDates'), datesText(e)),
        line(t('xStop'), e.stop_criterion),
      ],
      line(t('xObserved'), e.observed, 'x-observed')),
    lessons.length && !brief ? h('div', { class: 'x-lessons' },
      h('p', { class: 'x-lessons-label', id: `x-lessons-${e.id}` }, t('lessonsCount', { n: lessons.length })),
      h('ul', { 'aria-labelledby': `x-lessons-${e.id}` }, lessons.map((l) => h('li', { dir: 'auto', 'data-card': l.id }, l.text ?? '')))) : null,
    more);
}

// --- changing one --------------------------------------------------------------------------------

/** What the form starts from: the experiment's fields as text. */
function draftOf(e) {
  return {
    title: e.title,
    prediction: e.prediction,
    measure: e.measure,
    stop_criterion: e.stop_criterion,
    observed: e.observed,
    owner_party: e.owner_party || '',
    start: e.start || '',
    review: e.review || '',
    owners: [...e.owners],
    status: e.status,
    outcome: e.outcome || '',
    decision: e.decision || '',
  };
}

/** The fields of the draft that differ from the experiment, as update_experiment takes them. */
function changesOf(e, draft) {
  const change = {};
  const before = draftOf(e);
  for (const key of ['title', ...PLAN_TEXTS, 'observed', 'owner_party', ...DATES]) {
    const value = draft[key].trim();
    if (value !== before[key]) change[key] = value;
  }
  if ([...draft.owners].sort().join() !== [...before.owners].sort().join()) change.owners = draft.owners;
  for (const key of ['status', 'outcome', 'decision']) {
    if (draft[key] && draft[key] !== before[key]) change[key] = draft[key];
  }
  return change;
}

/** Why a change cannot be sent, in plain words, or null. */
function problemWith(draft) {
  const title = charCount(draft.title.trim());
  if (!title || title > EXPERIMENT_TITLE_MAX) return t('titleLength', { max: EXPERIMENT_TITLE_MAX });
  for (const key of [...PLAN_TEXTS, 'observed']) {
    if (charCount(draft[key].trim()) > EXPERIMENT_TEXT_MAX) return t('textLength', { max: EXPERIMENT_TEXT_MAX });
  }
  if (charCount(draft.owner_party.trim()) > OWNER_PARTY_MAX) return t('textLength', { max: OWNER_PARTY_MAX });
  if (draft.owners.length > MAX_OWNERS) return t('tooManyOwners', { max: MAX_OWNERS });
  return null;
}

/**
 * The form that changes an experiment: its plan, then how it went. options: { draft (from
 * draftOf, kept by the screen) }. actions: send, close() (the screen closes the form).
 */
function experimentForm(store, actions, e, draft) {
  const id = (part) => `x-${e.id}-${part}`;
  const text = (part, label, { rows = 3 } = {}) => countedField({
    id: id(part), label, max: EXPERIMENT_TEXT_MAX, value: draft[part], attrs: { rows, dir: 'auto' },
    onInput: (value) => { draft[part] = value; },
  });
  const input = (part, label, attrs) => field({
    id: id(part), label,
    control: h('input', { ...attrs, value: draft[part], oninput: (ev) => { draft[part] = ev.target.value; } }),
  });
  const select = (part, label, values, words, unset) => field({
    id: id(part), label,
    control: h('select', { onchange: (ev) => { draft[part] = ev.target.value; } },
      unset && !e[part] ? h('option', { value: '', selected: !draft[part] }, unset) : null,
      values.map((v) => h('option', { value: v, selected: v === draft[part] }, words(v)))),
  });
  const people = [...store.participants.values()];
  const onSave = (event) => {
    event.preventDefault();
    const problem = problemWith(draft);
    if (problem) return showError(problem);
    const change = changesOf(e, draft);
    if (!Object.keys(change).length) return actions.close(e.id);
    actions.send({ type: 'update_experiment', experiment: e.id, ...change }, t('experimentSaved')).then((result) => {
      if (result) actions.close(e.id);
    });
    return undefined;
  };
  return h('form', { class: 'experiment-form', id: `x-form-${e.id}`, novalidate: true, onsubmit: onSave, 'aria-labelledby': `x-form-heading-${e.id}` },
    h('h3', { id: `x-form-heading-${e.id}` }, t('changeExperiment')),
    input('title', t('xTitle'), { type: 'text', maxlength: EXPERIMENT_TITLE_MAX, dir: 'auto' }),
    h('fieldset', { class: 'x-part' },
      h('legend', {}, t('xPlan')),
      text('prediction', t('xPredictionLabel')),
      text('measure', t('xMeasureLabel')),
      h('fieldset', { class: 'choices owners' },
        h('legend', {}, t('xOwnersLabel')),
        people.map((p) => h('div', { class: 'choice' },
          h('input', {
            type: 'checkbox', id: id(`owner-${p.id}`), checked: draft.owners.includes(p.id),
            onchange: (ev) => {
              draft.owners = ev.target.checked ? [...draft.owners, p.id] : draft.owners.filter((o) => o !== p.id);
            },
          }),
          h('label', { for: id(`owner-${p.id}`), dir: 'auto' }, p.name)))),
      input('owner_party', t('xOwnerParty'), { type: 'text', maxlength: OWNER_PARTY_MAX, dir: 'auto' }),
      h('div', { class: 'row' },
        input('start', t('xStart'), { type: 'date' }),
        input('review', t('xReview'), { type: 'date' })),
      text('stop_criterion', t('xStopLabel'))),
    h('fieldset', { class: 'x-part' },
      h('legend', {}, t('xResult')),
      select('status', t('xStatusLabel'), EXPERIMENT_STATUSES, (v) => t(`xStatus.${v}`)),
      select('outcome', t('xOutcomeLabel'), OUTCOMES, (v) => t(`outcome.${v}`), t('notYetKnown')),
      text('observed', t('xObservedLabel')),
      select('decision', t('xDecisionLabel'), DECISIONS, (v) => t(`decision.${v}`), t('notYetDecided'))),
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'primary', 'data-key': `x-save-${e.id}` }, t('saveButton')),
      h('button', { type: 'button', class: 'secondary', onclick: () => actions.close(e.id) }, t('cancelButton'))));
}

// --- the phone and the console -------------------------------------------------------------------

/**
 * The experiments, each with changing it (where this person may) and adding a lesson about it.
 * options: { view: { editing (an experiment's id, or null) }, drafts (Map id → the form's
 * draft), titled, before and after (what a screen puts before and after the list) }. actions: send, refresh, addLesson(experiment) (the phone opens its add
 * form on a lesson about it; absent on the console).
 */
export function renderExperiments(store, actions, { view = {}, drafts = new Map(), titled = true, before = null, after = null } = {}) {
  const experiments = all(store, 'experiments');
  const act = canAct(store, actions);
  const close = (id) => {
    view.editing = null;
    drafts.delete(id);
    refreshAndFocus(actions, `[data-key="x-edit-${CSS.escape(id)}"]`);
  };
  const more = (e) => {
    if (!act) return null;
    if (view.editing === e.id && mayChangeExperiment(store, e)) {
      if (!drafts.has(e.id)) drafts.set(e.id, draftOf(e));
      return experimentForm(store, { ...actions, close }, e, drafts.get(e.id));
    }
    const button = (key, text, onclick) => h('button', { type: 'button', class: 'secondary small', 'data-key': `${key}-${e.id}`, 'aria-describedby': `x-title-${e.id}`, onclick }, text);
    return h('div', { class: 'card-actions' },
      mayChangeExperiment(store, e) ? button('x-edit', t('changeExperimentButton'), () => {
        view.editing = e.id;
        refreshAndFocus(actions, `#x-${CSS.escape(e.id)}-title`);
      }) : null,
      actions.addLesson ? button('x-lesson', t('addLessonButton'), () => actions.addLesson(e)) : null);
  };
  return h('section', { class: 'panel experiments', id: 'experiments', 'aria-labelledby': 'experiments-heading' },
    h('h2', { id: 'experiments-heading', class: titled ? null : 'sr-only' }, t('experimentsHeading')),
    h('p', { class: 'hint' }, t(`experimentsIntro.${store.session.phase >= 5 ? 5 : store.session.phase >= 4 ? 4 : 3}`)),
    before,
    experiments.length
      ? h('ul', { class: 'experiment-list', id: 'experiment-list' }, experiments.map((e) => experimentItem(store, e, { more: more(e) })))
      : h('p', { class: 'empty' }, t('noExperiments')),
    after);
}

// --- the projector -------------------------------------------------------------------------------

/** The experiments on the big screen, in phases 4 and 5. */
export function renderExperimentsBoard(store) {
  const experiments = all(store, 'experiments');
  if (store.session.phase < 4 || !experiments.length) return null;
  return h('section', { class: 'round-panel experiments-board', id: 'experiments-board', 'aria-labelledby': 'experiments-heading' },
    h('h2', { id: 'experiments-heading' }, t('experimentsHeading')),
    h('ul', { class: 'experiment-list big' }, experiments.map((e) => experimentItem(store, e, { brief: true }))));
}
