// Voting panel: rounds and votes.
//
// - voteControls (phone, on a card): − and + with one's own votes on the card; the total while
//   the round shows totals.
// - renderBudget (phone): the votes one has left, always in view while a round is open.
// - renderRound (phone): "voting is open", or the last closed round's ranking.
// - renderRoundBoard (projector): progress without totals (unless live), then the ranking.
// - votersProgress, liveResults, result: the pieces the console's side (voting-console.js,
//   not loaded by a phone) shows too.
//
// Needs from the store: session (phase, status), rounds, cards (for the ranking's texts),
// participants (how many may vote). Render functions take (store, actions, options), see
// ui.js; with actions null there is nothing to press.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { announce, ranking, showError } from '../ui.js';
import { openRound, lastClosedRound, participants, totalFor, isEnded, myVotes } from '../model.js';

// --- pieces the screens share ----------------------------------------------------------------------

/** How many of the participants have voted, in words and as a bar. */
export function votersProgress(store, round) {
  const total = participants(store).length;
  return [
    h('p', { class: 'progress-text', id: 'voters', 'data-voters': round.voters, 'data-of': total }, t('votersProgress', { n: round.voters, m: total })),
    h('progress', { max: Math.max(total, 1), value: round.voters, 'aria-labelledby': 'voters' }),
  ];
}

/** The running totals, where the round shows them. */
export function liveResults(store, round) {
  return round.results ? [h('h3', {}, t('liveResults')), ranking(store, round, { id: 'live-ranking' })] : null;
}

/** A closed round's ranking under its heading; `tag` and `heading` fit it into its screen,
 * `top` shows only the first places (ties at the cut included) and says how many more. */
export function result(store, round, { tag = 'section', className, heading = 'h2', top = null }) {
  const shown = ranking(store, round, { top });
  const more = (round.results || []).length - shown.children.length;
  return h(tag, { class: className, 'aria-labelledby': tag === 'section' ? 'result-heading' : null },
    h(heading, { id: 'result-heading' }, t('resultHeading')),
    shown,
    more > 0 ? h('p', { class: 'hint', id: 'ranking-more' }, t('rankingMore', { n: more })) : null);
}

// --- the phone -----------------------------------------------------------------------------------

/**
 * − and + on a card in the open round. votes: myVotes of the round when drawn. actions: send,
 * latest() (the store now) and pending() (commands on their way), to say the votes left after
 * a vote.
 */
export function voteControls(actions, round, card, votes) {
  const mine = votes.perCard.get(card.id) || 0;
  const cannotAdd = votes.remaining <= 0 || mine >= round.max_per_card;
  const textId = `card-text-${card.id}`;
  return h('div', { class: 'vote', role: 'group', 'aria-label': t('roundOpenHeading') },
    h('button', {
      type: 'button', class: 'vote-button', 'data-key': `unvote-${card.id}`, 'aria-label': t('unvoteFor'),
      'aria-describedby': textId, 'aria-disabled': mine === 0 ? 'true' : null,
      onclick: () => unvote(actions, round, card, votes),
    }, '−'),
    h('span', { class: 'vote-count', 'data-votes': mine },
      h('span', { 'aria-hidden': 'true' }, String(mine)),
      h('span', { class: 'sr-only' }, t('yourVotes', { n: mine }))),
    h('button', {
      type: 'button', class: 'vote-button', 'data-key': `vote-${card.id}`, 'aria-label': t('voteFor'),
      'aria-describedby': textId, 'aria-disabled': cannotAdd ? 'true' : null,
      onclick: () => vote(actions, round, card, votes),
    }, '+'),
    round.results ? h('span', { class: 'vote-total' }, t('totalVotes', { n: totalFor(round, card.id) })) : null);
}

function vote(actions, round, card, votes) {
  const mine = votes.perCard.get(card.id) || 0;
  if (votes.remaining <= 0) return showError(t('noVotesLeft'));
  if (mine >= round.max_per_card) return showError(t('maxOnCard', { max: round.max_per_card }));
  actions.send({ type: 'vote', round: round.id, card: card.id }).then((done) => {
    if (done) announceVotes(actions, round);
  });
  return undefined;
}

function unvote(actions, round, card, votes) {
  if (!(votes.perCard.get(card.id) > 0)) return;
  actions.send({ type: 'unvote', round: round.id, card: card.id }).then((done) => {
    if (done) announceVotes(actions, round);
  });
}

function announceVotes(actions, round) {
  const votes = myVotes(actions.latest(), round, actions.pending());
  announce(t('votesLeft', { n: votes.remaining, budget: round.budget }));
}

/** The votes left in the open round. options: { round, votes }. */
export function renderBudget(store, actions, { round, votes }) {
  if (!round || isEnded(store)) return null;
  return h('p', { class: 'budget', id: 'budget', 'data-remaining': votes.remaining },
    h('span', { class: 'budget-number', 'aria-hidden': 'true' }, String(votes.remaining)),
    h('span', { class: 'budget-text' }, t('votesLeftShort', { n: votes.remaining, budget: round.budget })));
}

/** "Voting is open" and how it works, or the last closed round's ranking in this phase. */
export function renderRound(store, actions, { round }) {
  if (round) {
    return h('section', { class: 'panel round', 'aria-labelledby': 'round-heading' },
      h('h2', { id: 'round-heading' }, t('roundOpenHeading')),
      h('p', {}, t('roundOpenText', { max: round.max_per_card })));
  }
  const closed = lastClosedRound(store, store.session.phase);
  return closed ? result(store, closed, { className: 'panel result' }) : null;
}

// --- the projector -------------------------------------------------------------------------------

/** The open round's progress (totals only when live), or the phase's last result. */
export function renderRoundBoard(store) {
  const round = openRound(store);
  if (round) {
    return h('section', { class: 'round-panel', 'aria-labelledby': 'round-heading' },
      h('h2', { id: 'round-heading' }, t('roundOpenHeading')),
      votersProgress(store, round),
      liveResults(store, round));
  }
  const closed = lastClosedRound(store, store.session.phase);
  return closed ? result(store, closed, { className: 'round-panel result', top: BOARD_TOP }) : null;
}

/** How many places of a result the big screen shows (the rest are on the phones and the console). */
const BOARD_TOP = 5;
