// Board panel: the room as the big screen shows it, read-only: who has the floor with a big
// countdown and who comes next, the current phase, the readiness counts while a check is
// open, an open reflection, who is at the table and the success criteria when the
// facilitator shows them, the experiments in phases 4 and 5 and the lessons in phase 5, the
// cards in large type (the previous phase's top cards first), voting progress without totals
// (unless the round is live), and the ranked result after closing.
//
// - renderRoomBoard (projector, a replay link's replay): all of it, for the store now or at a
//   past moment.
// - renderLobby (projector, before the work starts): the way in, large, the title and problem,
//   how many joined and from which perspectives (counts, no names).
// - renderClosing (projector, once ended): the outcome: the top three of each phase's last
//   vote as bars, and how many people, cards and experiments.
// - joinedCount, lockedNotice: "N people joined", "locked: nobody new can join".
//
// Needs from the store: what each of the panels below needs. Nothing to press: actions are
// not used.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { phaseBlock, ranking } from '../ui.js';
import { all, participants, visibleCards, lastClosedRound, shorten } from '../model.js';
import { renderBigCards } from './cards.js';
import { renderRoundBoard } from './voting.js';
import { renderFloorBoard } from './floor-board.js';
import { renderReadinessBoard } from './readiness.js';
import { renderReflectionBoard } from './reflection.js';
import { renderTableBoard } from './table.js';
import { renderCriteriaBoard } from './criteria.js';
import { renderExperimentsBoard } from './experiments.js';
import { renderLessons } from './lessons.js';

export function renderRoomBoard(store) {
  const phase = store.session.phase;
  return [
    renderFloorBoard(store),
    phaseBlock(phase),
    renderReadinessBoard(store),
    renderReflectionBoard(store),
    renderRoundBoard(store),
    h('div', { class: 'board-pair' }, renderTableBoard(store), renderCriteriaBoard(store)),
    renderExperimentsBoard(store),
    phase === 5 ? renderLessons(store, null, { big: true }) : null,
    renderBigCards(store, null, { skipKinds: phase === 5 ? ['lesson'] : [] }),
    earlierStrip(store),
  ];
}

/** The earlier phases in one line each: how many cards, and what the last vote chose. */
export function earlierStrip(store) {
  const phase = store.session.phase;
  const rows = [];
  for (let n = 0; n < phase; n += 1) {
    const cards = visibleCards(store, n);
    if (!cards.length) continue;
    const round = lastClosedRound(store, n);
    const top = round?.results?.find((r) => r.votes > 0 && store.cards.get(r.card)?.status === 'visible');
    rows.push(h('li', { 'data-phase': n },
      h('strong', {}, t('phaseOf', { n }), ': ', t(`phase.${n}`)), ' · ',
      cards.length === 1 ? t('oneCard') : t('nCards', { n: cards.length }),
      top ? [' · ', t('chosenLabel'), ' ', h('q', { dir: 'auto' }, shorten(store.cards.get(top.card).text))] : null));
  }
  if (!rows.length) return null;
  return h('section', { class: 'earlier-strip', id: 'earlier-strip', 'aria-labelledby': 'earlier-strip-heading' },
    h('h2', { class: 'label', id: 'earlier-strip-heading' }, t('earlierHeading')),
    h('ul', {}, rows));
}

// --- the lobby and the closing screen (projector) -----------------------------------------------

/** How many have joined, and from which perspectives (counts only, no names). */
export function joinedCount(store, { chips = false } = {}) {
  const people = participants(store);
  const counts = new Map();
  for (const p of people) counts.set(p.perspective, (counts.get(p.perspective) || 0) + 1);
  return h('div', { class: 'joined', id: 'joined', 'data-joined': people.length },
    h('p', { class: 'joined-count' },
      people.length === 0 ? t('lobbyNobody') : people.length === 1 ? t('lobbyJoinedOne') : t('lobbyJoined', { n: people.length })),
    chips && counts.size ? h('ul', { class: 'perspective-chips', 'aria-label': t('lobbyPerspectives') },
      [...counts].sort((a, b) => b[1] - a[1]).map(([perspective, n]) => h('li', { 'data-perspective': perspective },
        h('span', {}, t(`perspective.${perspective}`)), ' ', h('strong', {}, String(n))))) : null);
}

/** "Locked: nobody new can join", where the way in stood. */
export function lockedNotice() {
  return h('p', { class: 'locked-notice', id: 'locked-notice' }, t('projectorLocked'));
}

/** Before the work starts: the way in, large, with who has joined. */
export function renderLobby(store, joinPanel) {
  const session = store.session;
  return h('div', { class: 'lobby', id: 'lobby' },
    h('div', { class: 'lobby-join' }, session.status === 'open' ? joinPanel : lockedNotice()),
    h('div', { class: 'lobby-room' },
      h('h1', { class: 'lobby-title' }, session.title),
      session.problem ? h('p', { class: 'lobby-problem', dir: 'auto' }, session.problem) : null,
      joinedCount(store, { chips: true }),
      phaseBlock(session.phase)));
}

/** After the end: what the session produced, as the room saw it, in one screen. */
export function renderClosing(store) {
  const session = store.session;
  const closed = [...store.rounds.values()].filter((r) => r.status === 'closed' && r.results?.length);
  // The last result of each phase, latest phase first; at most three.
  const byPhase = new Map();
  for (const r of closed) byPhase.set(r.phase, r);
  const results = [...byPhase.values()].sort((a, b) => b.phase - a.phase).slice(0, 3);
  const experiments = all(store, 'experiments');
  const cards = [...store.cards.values()].filter((c) => c.status === 'visible');
  return h('div', { class: 'closing', id: 'closing' },
    h('h1', { class: 'closing-title' }, session.title),
    h('p', { class: 'closing-ended', id: 'closing-ended' }, t('closingHeading')),
    h('p', { class: 'closing-facts', id: 'closing-facts' },
      t('closingFacts', { people: participants(store).length, cards: cards.length, experiments: experiments.length })),
    results.length ? h('section', { class: 'closing-results', 'aria-labelledby': 'closing-outcome' },
      h('h2', { id: 'closing-outcome' }, t('closingOutcome')),
      h('div', { class: 'closing-rounds' }, results.map((r) => h('section', { class: 'closing-round', 'aria-labelledby': `closing-${r.id}` },
        h('h3', { id: `closing-${r.id}` }, t('phaseOf', { n: r.phase }), ': ', t(`phase.${r.phase}`)),
        ranking(store, r, { id: `ranking-${r.id}`, top: 3 }))))) : null,
    h('p', { class: 'closing-thanks' }, t('closingThanks')));
}
