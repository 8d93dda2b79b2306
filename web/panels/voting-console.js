// Voting panel, the console's side: running a round.
//
// - renderOpenRound: the form that opens a round on the current phase's visible cards.
// - renderRoundStatus: the open round's progress, live totals and closing it; or the phase's
//   last result.
//
// Needs from the store: session (phase, status), rounds, cards, participants (how many may
// vote). Render functions take (store, actions, options), see ui.js; with actions null there
// is nothing to press.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { field, showError } from '../ui.js';
import { openRound, lastClosedRound, visibleCards, isEnded, BUDGET_MAX } from '../model.js';
import { liveResults, result, votersProgress } from './voting.js';

/**
 * The form that opens a round on the current phase's visible cards. The form is kept while the
 * room changes (so typing is never interrupted): what it sends is read from the room as it is
 * when the button is pressed (actions.latest()), never from when the form was built. options:
 * { draft: { budget, maxPerCard, live } } (text as typed).
 */
export function renderOpenRound(store, actions, { draft }) {
  if (!actions) return null;
  const onOpen = (event) => {
    event.preventDefault();
    const now = actions.latest ? actions.latest() : store;
    const phase = now.session.phase;
    const budget = Number.parseInt(draft.budget, 10);
    const maxPerCard = Number.parseInt(draft.maxPerCard, 10);
    if (!(budget >= 1 && budget <= BUDGET_MAX)) return showError(t('error.open_round.invalid.budget'));
    if (!(maxPerCard >= 1 && maxPerCard <= budget)) return showError(t('error.open_round.invalid.max_per_card'));
    if (!visibleCards(now, phase).length) return showError(t('error.open_round.invalid.cards'));
    actions.send({ type: 'open_round', phase, budget, max_per_card: maxPerCard, live: draft.live }, t('roundOpened'));
    return undefined;
  };
  const number = (id, label, key) => field({
    id, label,
    control: h('input', { type: 'number', min: 1, max: BUDGET_MAX, inputmode: 'numeric', value: draft[key], oninput: (e) => { draft[key] = e.target.value; } }),
  });
  return h('form', { id: 'open-round-form', novalidate: true, onsubmit: onOpen },
    h('div', { class: 'row' },
      number('budget', t('budgetLabel'), 'budget'),
      number('max-per-card', t('maxPerCardLabel'), 'maxPerCard')),
    h('div', { class: 'choice' },
      h('input', { type: 'checkbox', id: 'live', checked: draft.live, onchange: (e) => { draft.live = e.target.checked; } }),
      h('label', { for: 'live' }, t('liveLabel'))),
    h('button', { type: 'submit', class: 'primary', id: 'open-round', disabled: isEnded(store) }, t('openRoundButton')));
}

/**
 * The open round's progress, its running totals and closing it; or, with no round open, whether
 * the current phase has cards to vote on and its last result. A hidden round's running totals
 * stay folded away until the facilitator asks for them (a laptop is often mirrored on the big
 * screen). options: { view: { showTotals } }.
 */
export function renderRoundStatus(store, actions, { view = {} } = {}) {
  const round = openRound(store);
  if (round) {
    // A live round shows its totals to everyone, the big screen included: nothing to hide.
    const hidden = !round.live;
    const shown = !hidden || view.showTotals;
    return h('div', { class: 'round-status' },
      h('p', { id: 'round-state' }, hidden && !view.showTotals ? t('roundRunningHidden') : t('roundRunning')),
      votersProgress(store, round),
      hidden && actions ? h('button', {
        type: 'button', class: 'secondary small', id: 'show-totals', 'data-key': 'show-totals',
        'aria-pressed': String(Boolean(view.showTotals)),
        onclick: () => {
          view.showTotals = !view.showTotals;
          actions.refresh();
        },
      }, view.showTotals ? t('hideTotals') : t('showTotals')) : null,
      shown ? liveResults(store, round) : null,
      actions ? h('button', {
        type: 'button', class: 'primary', id: 'close-round', 'data-key': 'close-round',
        onclick: () => actions.send({ type: 'close_round', round: round.id }, t('roundClosed')),
      }, t('closeRoundButton')) : null);
  }
  const phase = store.session.phase;
  const closed = lastClosedRound(store, phase);
  return [
    actions && !isEnded(store) && !visibleCards(store, phase).length
      ? h('p', { class: 'hint', id: 'no-round-cards' }, t('noVisibleCards')) : null,
    closed ? result(store, closed, { tag: 'div', className: 'result', heading: 'h3' }) : null,
  ];
}

/** A round as the console shows it: without its running totals while they are folded away. */
export function shownRound(round, view = {}) {
  if (!round || round.status !== 'open' || round.live || view.showTotals) return round;
  return { ...round, results: undefined };
}
