// Cards panel: the cards on the board, one card drawn the same way on every screen.
//
// - renderBoard (phone): the current phase's visible cards and those in the open round, one's
//   own marked, with changing and withdrawing one's own card and the vote buttons; cards still
//   on their way to the server below them.
// - renderBigCards (projector): the current phase's visible cards in large type.
// The console's side (every card, with hiding and merging) is in cards-console.js, so a phone
// does not load it.
//
// Needs from the store: session (phase, status), cards, rounds, participants (authors), you
// (own cards and votes). Render functions take (store, actions, options), see ui.js; with
// actions null there is nothing to press. Actions beyond send/refresh are named below.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct, refreshAndFocus, voteCount } from '../ui.js';
import { openRound, visibleCards, isOwnCard, authorName, totalFor } from '../model.js';
import { voteControls } from './voting.js';

/**
 * One card: its kind and author, its text, then what a screen adds. `status` adds
 * data-status, `showPhase` the phase it was added in, `badges` follow in the card's meta line,
 * `below` follows the text.
 */
export function cardView(card, { className = 'card', status = false, showPhase = false, author = null, badges = null, textId = null, below = null } = {}) {
  return h('li', { class: className, 'data-card': card.id, 'data-status': status ? card.status : null },
    h('p', { class: 'card-meta' },
      showPhase ? h('span', { class: 'card-phase' }, t('phaseOf', { n: card.phase })) : null,
      h('span', { class: 'card-kind' }, t(`kind.${card.kind}`)),
      author ? h('span', { class: 'card-author' }, author) : null,
      badges),
    h('p', { class: 'card-text', id: textId }, card.text ?? ''),
    below);
}

/** "by Name", or null for an anonymous or unknown author. */
export function byAuthor(store, card) {
  const name = authorName(store, card);
  return name ? t('byName', { name }) : null;
}

/** A card's total in a round, where the round shows totals. */
export function votesBadge(round, card) {
  return round?.results && round.cards.includes(card.id) ? h('span', { class: 'badge votes' }, voteCount(totalFor(round, card.id))) : null;
}

// --- the phone -----------------------------------------------------------------------------------

/**
 * The phone's board. options: { round, votes (myVotes of the open round), pending (commands on
 * their way), view: { editing, confirmWithdraw } }; actions: send, refresh, edit(card) (opens
 * the edit form), and vote/unvote through voteControls.
 */
export function renderBoard(store, actions, { round = null, votes = null, pending = [], view = {} } = {}) {
  const phase = store.session.phase;
  const inRound = new Set(round ? round.cards : []);
  const cards = [...store.cards.values()].filter((c) => c.status === 'visible' && (c.phase === phase || inRound.has(c.id)));
  const waiting = pendingCards(pending);
  return h('section', { class: 'cards-section', 'aria-labelledby': 'cards-heading' },
    h('h2', { id: 'cards-heading', tabindex: '-1' }, t('cardsHeading')),
    cards.length || waiting.length
      ? h('ul', { class: 'cards', id: 'cards' }, cards.map((c) => boardCard(store, actions, c, round, votes, view)), waiting)
      : h('p', { class: 'empty' }, t('noCards')));
}

function boardCard(store, actions, card, round, votes, view) {
  const own = isOwnCard(store, card.id);
  const act = canAct(store, actions);
  return cardView(card, {
    className: own ? 'card own' : 'card',
    author: own ? t('yourCard') : byAuthor(store, card),
    textId: `card-text-${card.id}`,
    below: [
      own && act && view.confirmWithdraw === card.id ? withdrawConfirm(actions, card, view) : null,
      own && act && view.confirmWithdraw !== card.id && view.editing !== card.id ? ownCardActions(actions, card, view) : null,
      round && act && round.cards.includes(card.id) ? voteControls(actions, round, card, votes) : null,
    ],
  });
}

function ownCardActions(actions, card, view) {
  return h('div', { class: 'card-actions' },
    h('button', { type: 'button', class: 'secondary small', 'data-key': `edit-${card.id}`, 'aria-describedby': `card-text-${card.id}`, onclick: () => actions.edit(card) }, t('editButton')),
    h('button', {
      type: 'button', class: 'secondary small', 'data-key': `withdraw-${card.id}`, 'aria-describedby': `card-text-${card.id}`,
      onclick: () => {
        view.confirmWithdraw = card.id;
        refreshAndFocus(actions, `[data-key="withdraw-no-${CSS.escape(card.id)}"]`);
      },
    }, t('withdrawButton')));
}

/** "Withdraw this card?" with yes and cancel, in place of the card's own buttons. */
function withdrawConfirm(actions, card, view) {
  return h('div', { class: 'confirm', role: 'group', 'aria-labelledby': `confirm-${card.id}` },
    h('p', { id: `confirm-${card.id}` }, t('withdrawConfirm')),
    h('div', { class: 'row' },
      h('button', {
        type: 'button', class: 'danger', 'data-key': `withdraw-yes-${card.id}`,
        onclick: () => {
          view.confirmWithdraw = null;
          actions.send({ type: 'withdraw_card', card: card.id }, t('cardWithdrawn'));
          refreshAndFocus(actions, '#cards-heading');
        },
      }, t('withdrawYes')),
      h('button', {
        type: 'button', class: 'secondary', 'data-key': `withdraw-no-${card.id}`,
        onclick: () => {
          view.confirmWithdraw = null;
          refreshAndFocus(actions, `[data-key="withdraw-${CSS.escape(card.id)}"]`);
        },
      }, t('cancelButton'))));
}

/** Cards still on their way to the server, shown so nothing seems lost while offline. */
function pendingCards(pending) {
  return pending.filter((e) => e.cmd.type === 'add_card').map((e) => cardView({ kind: e.cmd.kind, text: e.cmd.text }, {
    className: 'card card-pending', author: t('sending'),
  }));
}

// --- the projector -------------------------------------------------------------------------------

/** The current phase's cards in large type, with totals while a live round shows them. */
export function renderBigCards(store) {
  const round = openRound(store);
  const cards = visibleCards(store, store.session.phase);
  return h('section', { class: 'board', 'aria-labelledby': 'cards-heading' },
    h('h2', { id: 'cards-heading', class: 'sr-only' }, t('cardsHeading')),
    cards.length
      ? h('ul', { class: 'cards big', id: 'cards' }, cards.map((card) => cardView(card, { badges: votesBadge(round, card) })))
      : h('p', { class: 'empty' }, t('noCards')));
}
