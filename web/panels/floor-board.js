// Floor panel, the projector's side: the speaker with a huge countdown, the first few of the
// queue and, while the facilitator shows it, the balance. Read-only: there is nothing to
// press on the big screen.
//
// Needs from the store: floor, floorAt (for the countdown), participants (names), session
// (status: nothing once it ended).

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { countdownView, personName } from '../ui.js';
import { isEnded } from '../model.js';
import { balanceSummary } from './balance.js';
import { responseBadge } from './floor.js';

/** How many of the queue the big screen names. */
const QUEUE_SHOWN = 4;

/** The floor on the big screen; nothing while there is nothing to show or the session ended. */
export function renderFloorBoard(store) {
  const floor = store.floor;
  if (!floor || isEnded(store)) return null;
  const turn = floor.turn;
  const balance = floor.settings.show_balance ? floor.balance : null;
  const next = floor.queue.slice(0, QUEUE_SHOWN);
  if (!turn && !next.length && !balance && !floor.paused) return null;
  return h('section', { class: 'floor-board', id: 'floor', 'aria-labelledby': 'floor-heading' },
    h('div', { class: 'floor-now' },
      h('h2', { id: 'floor-heading', class: 'label' }, turn ? t('speakingNow') : t('floorHeading')),
      turn
        ? [h('p', { class: 'projector-speaker', id: 'projector-speaker', 'data-speaker': turn.speaker }, personName(store, turn.speaker)),
          h('p', { class: 'projector-clock' }, countdownView(store, 'projector-countdown', 'countdown-huge'))]
        : h('p', { class: 'projector-nobody' }, t('nobodySpeaks')),
      floor.paused ? h('p', { class: 'floor-paused' }, t('floorPausedShort')) : null),
    next.length ? h('div', { class: 'floor-next' },
      h('h3', { id: 'next-heading', class: 'label' }, t('nextHeading')),
      h('ol', { class: 'next-list', id: 'projector-queue', 'aria-labelledby': 'next-heading' },
        next.map((entry) => h('li', { 'data-participant': entry.participant }, personName(store, entry.participant),
          entry.hand === 'response' ? responseBadge() : null)))) : null,
    balance ? balanceSummary(balance) : null);
}
