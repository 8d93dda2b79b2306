// Readiness panel (phase 0): is the problem urgent, is it complex, are we willing to work on
// it together? Counts only: nothing here, or in any message, says who answered what.
//
// - readinessCounts (every screen): how many answered, and per question the yes / not sure /
//   no counts as bars.
// - conclusionLine (every screen): the group's conclusion, start or not yet, with its note.
// - renderReadinessAsk (phone): the open check's three questions and a comment, then one's
//   own answer (which may still change) and the counts; once concluded, the conclusion.
// - renderReadinessBoard (projector): the counts while the check is open, then the conclusion.
// The console's side (opening a check, the comments, recording the conclusion) is in
// readiness-console.js. A phone loads this module only once a check exists.
//
// Needs from the store: checks, you.readiness, session (phase, status). Render functions take
// (store, actions, options), see ui.js; with actions null there is nothing to press.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { bar, canAct, changeAnswerButton, choices, countedField, sendAnswer, showError, textWithin } from '../ui.js';
import { latestCheck, yours, QUESTIONS, ANSWERS, NOTE_MAX } from '../model.js';

/** How many answered, and the counts per question as bars. `ids` prefixes the element ids. */
export function readinessCounts(check, { ids = 'rc' } = {}) {
  return h('div', { class: 'readiness-counts', id: `${ids}-counts`, 'data-check': check.id, 'data-answered': check.answered },
    h('p', { class: 'answered' }, check.answered === 1 ? t('answeredOne') : t('answeredMany', { n: check.answered })),
    h('dl', { class: 'questions' }, QUESTIONS.map((q) => {
      const counts = check[q];
      const total = ANSWERS.reduce((n, a) => n + counts[a], 0);
      return [
        h('dt', { class: 'question' }, t(`question.${q}`)),
        h('dd', {},
          h('ul', { class: 'answer-bars', 'data-question': q }, ANSWERS.map((a) => h('li', { class: `answer-bar answer-${a}`, 'data-answer': a, 'data-count': counts[a] },
            h('span', { class: 'answer-word' }, t(`answer.${a}`)),
            bar(total ? counts[a] / total : 0),
            h('span', { class: 'answer-count' }, String(counts[a])))))),
      ];
    })));
}

/** The group's conclusion with the facilitator's note, or null while there is none. */
export function conclusionLine(check) {
  if (!check?.conclusion) return null;
  return h('div', { class: `conclusion conclusion-${check.conclusion}`, id: 'conclusion', 'data-conclusion': check.conclusion },
    h('p', { class: 'conclusion-word' }, t(`conclusion.${check.conclusion}`)),
    check.note ? h('p', { class: 'conclusion-note', dir: 'auto' }, check.note) : null);
}

// --- the phone -----------------------------------------------------------------------------------

/**
 * The readiness check on a phone: the open check's questions (the answers given before
 * chosen), a comment and "send"; then the counts. A concluded check shows its conclusion in
 * phase 0 only. options: { draft: { check, answers: { urgent, … }, comment, changing } }
 * (what the person chose but did not send yet; `changing`: the form is open again after
 * answering). actions: send, refresh.
 */
export function renderReadinessAsk(store, actions, { draft }) {
  const check = latestCheck(store);
  if (!check) return null;
  if (check.stage !== 'open') {
    return store.session.phase === 0
      ? h('section', { class: 'panel readiness', id: 'readiness', 'aria-labelledby': 'readiness-heading' },
        h('h2', { id: 'readiness-heading' }, t('readinessHeading')),
        conclusionLine(check))
      : null;
  }
  const mine = yours(store, 'readiness', 'check', check.id);
  if (draft.check !== check.id) {
    Object.assign(draft, { check: check.id, answers: { ...(mine?.answers || {}) }, comment: mine?.comment || '', changing: false });
  }
  const act = canAct(store, actions);
  const answered = Boolean(mine) && !draft.changing;
  return h('section', { class: 'panel readiness ask', id: 'readiness', 'aria-labelledby': 'readiness-heading' },
    h('h2', { id: 'readiness-heading', tabindex: '-1' }, t('readinessHeading')),
    h('p', {}, t('readinessIntro')),
    act && !answered ? answerForm(actions, check, draft) : null,
    answered ? [
      h('p', { class: 'done-line', id: 'readiness-done' }, t('readinessThanks')),
      readinessCounts(check, { ids: 'phone' }),
      act ? changeAnswerButton(actions, draft, 'readiness-change', '#readiness input') : null,
    ] : null);
}

function answerForm(actions, check, draft) {
  const onSend = (event) => {
    event.preventDefault();
    const comment = textWithin(draft.comment, { min: 0, max: NOTE_MAX, message: t('noteTooLong', { max: NOTE_MAX }) });
    if (comment === null) return undefined;
    const given = QUESTIONS.filter((q) => draft.answers[q]);
    if (!given.length && !comment) return showError(t('readinessEmpty'));
    const cmd = { type: 'answer_check', check: check.id };
    for (const q of given) cmd[q] = draft.answers[q];
    if (comment) cmd.comment = comment;
    sendAnswer(actions, cmd, t('readinessThanks'), draft, 'readiness-heading');
    return undefined;
  };
  return h('form', { class: 'readiness-form', id: 'readiness-form', novalidate: true, onsubmit: onSend },
    QUESTIONS.map((q) => choices({
      name: `ready-${q}`, legend: t(`question.${q}`), className: 'choices answers-row', chosen: draft.answers[q],
      options: ANSWERS.map((a) => ({ value: a, label: t(`answer.${a}`) })),
      onChoose: (value) => { draft.answers[q] = value; },
    })),
    countedField({
      id: 'ready-comment', label: t('readinessComment'), max: NOTE_MAX, value: draft.comment, attrs: { rows: 2, dir: 'auto' },
      onInput: (value) => { draft.comment = value; },
    }),
    h('button', { type: 'submit', class: 'primary wide', id: 'readiness-send' }, t('sendAnswer')));
}

// --- the projector -------------------------------------------------------------------------------

/** The open check's counts on the big screen, or the last check's conclusion in phase 0. */
export function renderReadinessBoard(store) {
  const check = latestCheck(store);
  if (!check || (check.stage !== 'open' && store.session.phase !== 0)) return null;
  return h('section', { class: 'round-panel readiness-board', id: 'readiness', 'aria-labelledby': 'readiness-heading' },
    h('h2', { id: 'readiness-heading' }, t('readinessHeading')),
    check.stage === 'open' ? readinessCounts(check, { ids: 'board' }) : conclusionLine(check));
}
