// Reflection panel: a short look back at the end of a phase. What worked, what did not: a
// sentence from each phone, without names when the session's cards are anonymous.
//
// - reflectionEntries (console, report): what each person wrote, named unless anonymous.
// - renderReflectionAsk (phone): the open reflection's two questions; then what one wrote
//   (which may still change while it is open).
// - renderReflectionBoard (projector): the open reflection's questions and how many wrote.
// The console's side (opening and closing one, reading the answers) is in
// reflection-console.js. A phone loads this module only once a reflection exists.
//
// Needs from the store: reflections, you.reflections, participants (names), session
// (anonymous_cards, status). Render functions take (store, actions, options), see ui.js; with
// actions null there is nothing to press.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct, changeAnswerButton, countedField, sendAnswer, showError, personName, textWithin } from '../ui.js';
import { openOne, yours, REFLECTION_MAX } from '../model.js';

/** "Looking back on phase 2: Develop solutions". */
export function reflectionTitle(r) {
  return t('reflectionOn', { n: r.phase, name: t(`phase.${r.phase}`) });
}

/** What each person wrote: what worked and what did not, with their name unless anonymous. */
export function reflectionEntries(store, r) {
  if (!r.entries.length) return h('p', { class: 'empty' }, t('noReflections'));
  return h('ul', { class: 'reflection-entries', 'data-reflection': r.id }, r.entries.map((entry) => h('li', { class: 'reflection-entry' },
    entry.by ? h('p', { class: 'entry-by' }, personName(store, entry.by)) : null,
    entry.worked ? h('p', {}, h('span', { class: 'entry-label' }, `${t('worked')}: `), h('span', { dir: 'auto' }, entry.worked)) : null,
    entry.not_worked ? h('p', {}, h('span', { class: 'entry-label' }, `${t('notWorked')}: `), h('span', { dir: 'auto' }, entry.not_worked)) : null)));
}

// --- the phone -----------------------------------------------------------------------------------

/**
 * The open reflection's two questions, or what one wrote. options: { draft: { reflection,
 * worked, not_worked, changing } }. actions: send, refresh.
 */
export function renderReflectionAsk(store, actions, { draft }) {
  const r = openOne(store, 'reflections');
  if (!r || !canAct(store, actions)) return null;
  const mine = yours(store, 'reflections', 'reflection', r.id);
  if (draft.reflection !== r.id) {
    Object.assign(draft, { reflection: r.id, worked: mine?.entry.worked || '', not_worked: mine?.entry.not_worked || '', changing: false });
  }
  const written = Boolean(mine) && !draft.changing;
  return h('section', { class: 'panel reflection ask', id: 'reflection', 'aria-labelledby': 'reflection-heading' },
    h('h2', { id: 'reflection-heading', tabindex: '-1' }, reflectionTitle(r)),
    h('p', {}, store.session.anonymous_cards ? t('reflectionIntroAnonymous') : t('reflectionIntro')),
    written ? [
      h('p', { class: 'done-line', id: 'reflection-done' }, t('reflectionThanks')),
      reflectionEntries(store, { id: r.id, entries: [mine.entry] }),
      changeAnswerButton(actions, draft, 'reflection-change', '#reflect-worked'),
    ] : reflectForm(actions, r, draft));
}

function reflectForm(actions, r, draft) {
  const onSend = (event) => {
    event.preventDefault();
    const limit = { min: 0, max: REFLECTION_MAX, message: t('textLength', { max: REFLECTION_MAX }) };
    const worked = textWithin(draft.worked, limit);
    const notWorked = textWithin(draft.not_worked, limit);
    if (worked === null || notWorked === null) return undefined;
    if (!worked && !notWorked) return showError(t('reflectionEmpty'));
    sendAnswer(actions, { type: 'reflect', reflection: r.id, worked, not_worked: notWorked }, t('reflectionThanks'), draft, 'reflection-heading');
    return undefined;
  };
  const text = (part, id, label) => countedField({
    id, label, max: REFLECTION_MAX, value: draft[part], attrs: { rows: 2, dir: 'auto' },
    onInput: (value) => { draft[part] = value; },
  });
  return h('form', { class: 'reflect-form', id: 'reflect-form', novalidate: true, onsubmit: onSend },
    text('worked', 'reflect-worked', t('workedQuestion')),
    text('not_worked', 'reflect-not-worked', t('notWorkedQuestion')),
    h('button', { type: 'submit', class: 'primary wide', id: 'reflect-send' }, t('sendAnswer')));
}

// --- the projector -------------------------------------------------------------------------------

/** The open reflection on the big screen: its questions and how many wrote something. */
export function renderReflectionBoard(store) {
  const r = openOne(store, 'reflections');
  if (!r) return null;
  return h('section', { class: 'round-panel reflection-board', id: 'reflection-board', 'aria-labelledby': 'reflection-heading' },
    h('h2', { id: 'reflection-heading' }, reflectionTitle(r)),
    h('p', { class: 'big-question' }, t('workedQuestion')),
    h('p', { class: 'big-question' }, t('notWorkedQuestion')),
    h('p', { class: 'progress-text', 'data-entries': r.entries.length }, t('reflectionCount', { n: r.entries.length })));
}
