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
 * The form that opens a round on the current phase's visible cards. options: { draft:
 * { budget, maxPerCard, live } } (text as typed).
 */
export function renderOpenRound(store, actions, { draft }) {
  if (!actions) return null;
  const phase = store.session.phase;
  const hasCards = visibleCards(store, phase).length > 0;
  const onOpen = (event) => {
    event.preventDefault();
    const budget = Number.parseInt(draft.budget, 10);
    const maxPerCard = Number.parseInt(draft.maxPerCard, 10);
    if (!(budget >= 1 && budget <= BUDGET_MAX) || !(maxPerCard >= 1 && maxPerCard <= budget)) {
      showError(t('error.invalid'));
      return;
    }
    actions.send({ type: 'open_round', phase, budget, max_per_card: maxPerCard, live: draft.live }, t('roundOpened'));
  };
  const number = (id, label, key) => field({
    id, label,
    control: h('input', { type: 'number', min: 1, max: BUDGET_MAX, inputmode: 'numeric', value: draft[key], oninput: (e) => { draft[key] = e.target.value; } }),
  });
  return h('form', { id: 'open-round-form', novalidate: true, onsubmit: onOpen },
    hasCards ? null : h('p', { class: 'hint' }, t('noVisibleCards')),
    h('div', { class: 'row' },
      number('budget', t('budgetLabel'), 'budget'),
      number('max-per-card', t('maxPerCardLabel'), 'maxPerCard')),
    h('div', { class: 'choice' },
      h('input', { type: 'checkbox', id: 'live', checked: draft.live, onchange: (e) => { draft.live = e.target.checked; } }),
      h('label', { for: 'live' }, t('liveLabel'))),
    h('button', { type: 'submit', class: 'primary', id: 'open-round', disabled: isEnded(store) }, t('openRoundButton')));
}

/** The open round's progress and totals, with closing it; or the phase's last result. */
export function renderRoundStatus(store, actions) {
  const round = openRound(store);
  if (round) {
    return h('div', { class: 'round-status' },
      h('p', { id: 'round-state' }, t('roundRunning')),
      votersProgress(store, round),
      liveResults(store, round),
      actions ? h('button', {
        type: 'button', class: 'primary', id: 'close-round', 'data-key': 'close-round',
        onclick: () => actions.send({ type: 'close_round', round: round.id }, t('roundClosed')),
      }, t('closeRoundButton')) : null);
  }
  const closed = lastClosedRound(store, store.session.phase);
  return closed ? result(store, closed, { tag: 'div', className: 'result', heading: 'h3' }) : null;
}
