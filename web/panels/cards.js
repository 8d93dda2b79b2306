// Cards panel: the cards on the board, one card drawn the same way on every screen.
//
// - cardView (every screen): one card: its kind and author, the cards it builds on (its
//   thread), its text, where an example comes from, what a lesson is about; the conditions
//   that build on it can be drawn under it.
// - renderBoard (phone): the top cards carried over from the previous phase's vote, then the
//   current phase's visible cards and those in the open round, one's own marked, conditions
//   under their idea, with "build on this" on every card, changing and withdrawing one's own
//   card, making one's own idea an experiment, and the vote buttons; cards still on their
//   way to the server below them; the earlier phases' cards, folded away.
// - renderBigCards (projector): the carried-over cards and the current phase's visible cards
//   in large type.
// The console's side (every card, with hiding and merging) is in cards-console.js, so a phone
// does not load it.
//
// Needs from the store: session (phase, status), cards, rounds, participants (authors), you
// (own cards and votes), experiments (titles, for lessons and ideas being tried). Render
// functions take (store, actions, options), see ui.js; with actions null there is nothing to
// press. Actions beyond send/refresh are named below.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct, refreshAndFocus, voteCount } from '../ui.js';
import {
  openRound, visibleCards, isOwnCard, authorName, totalFor, threadOf, conditionsOf, buildsOnCount, carriedOver,
  isIdea, all, shorten, PHASES,
} from '../model.js';
import { voteControls } from './voting.js';

/**
 * One card: its kind and author, its text, then what a screen adds. `status` adds
 * data-status, `badges` follow in the card's meta line,
 * `below` follows the text, `nested` (a list of cards, e.g. its conditions) comes last. With
 * `store`, the card also shows its thread (what it builds on; not with `thread` false, for a
 * condition drawn under its idea), an example's source, what a lesson is about, and how many
 * cards build on it.
 */
export function cardView(card, { className = 'card', status = false, author = null, badges = null, textId = null, below = null, nested = null, store = null, thread = true } = {}) {
  return h('li', { class: className, 'data-card': card.id, 'data-kind': card.kind, 'data-status': status ? card.status : null },
    h('p', { class: 'card-meta' },
      h('span', { class: 'card-kind' }, t(`kind.${card.kind}`)),
      author ? h('span', { class: 'card-author' }, author) : null,
      badges),
    store && thread ? threadLine(store, card) : null,
    h('p', { class: 'card-text', id: textId, dir: 'auto' }, card.text ?? ''),
    store ? cardFacts(store, card) : null,
    below,
    nested);
}

/** "Builds on: …" with the texts of the cards this one builds on, nearest first. */
function threadLine(store, card) {
  const thread = threadOf(store, card);
  if (!thread.length) return null;
  return h('p', { class: 'thread', 'data-builds-on': card.builds_on },
    h('span', { class: 'thread-label' }, `${t('buildsOnLabel')} `),
    thread.map((c, i) => [i ? h('span', { 'aria-hidden': 'true' }, ' ← ') : null,
      h('q', { dir: 'auto' }, shorten(c.text ?? t('hiddenCard')))]));
}

/** Where an example comes from, what a lesson is about, how many build on the card, and the
 * experiment it became. */
function cardFacts(store, card) {
  const n = card.status === 'visible' ? buildsOnCount(store, card.id) : 0;
  const tried = all(store, 'experiments').filter((e) => e.from_card === card.id);
  const facts = [
    card.source ? h('p', { class: 'card-source' }, `${t('sourceLabel')}: `, h('span', { dir: 'auto' }, card.source)) : null,
    card.kind === 'lesson' ? h('p', { class: 'card-about' }, lessonAbout(store, card.lesson_of)) : null,
    n ? h('p', { class: 'card-builds' }, n === 1 ? t('buildsOnOne') : t('buildsOnMany', { n })) : null,
    tried.map((e) => h('p', { class: 'card-tried', 'data-experiment': e.id }, `${t('triedAs')}: `, h('span', { dir: 'auto' }, e.title))),
  ];
  return facts.flat().some(Boolean) ? facts : null;
}

/** What a lesson is about, in words: an experiment, a phase, or the whole session. */
export function lessonAbout(store, lessonOf) {
  if (lessonOf?.experiment) {
    const e = store.experiments?.get(lessonOf.experiment);
    return t('aboutExperiment', { title: e?.title ?? lessonOf.experiment });
  }
  if (lessonOf && lessonOf.phase !== undefined) return t('aboutPhase', { n: lessonOf.phase, name: t(`phase.${lessonOf.phase}`) });
  return t('aboutSession');
}

/** The conditions under an idea, each drawn by `draw(card)`; null when it has none. With
 * `within` (ids), only the conditions among those cards. */
export function conditionList(store, card, draw, within = null) {
  const conditions = conditionsOf(store, card.id).filter((c) => !within || within.has(c.id));
  if (!conditions.length) return null;
  return h('div', { class: 'conditions' },
    h('p', { class: 'conditions-label', id: `conditions-${card.id}` }, t('conditionsHeading', { n: conditions.length })),
    h('ul', { class: 'cards conditions-list', 'aria-labelledby': `conditions-${card.id}` }, conditions.map(draw)));
}

/**
 * The cards to show at the top level of a list: `cards` without the conditions that are drawn
 * under an idea shown too (in `shown`, ids of every card on the screen).
 */
export function topLevel(cards, shown) {
  return cards.filter((c) => !(c.kind === 'condition' && c.builds_on && shown.has(c.builds_on)));
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

/** The cards carried over from the previous phase's vote, each drawn by `draw(card, votes)`. */
export function carriedSection(store, draw, { big = false } = {}) {
  const carried = carriedOver(store, store.session.phase);
  if (!carried) return null;
  return h('section', { class: big ? 'carried big' : 'carried', id: 'carried', 'aria-labelledby': 'carried-heading' },
    h('h3', { id: 'carried-heading' }, t('carriedHeading', { n: carried.round.phase })),
    h('ul', { class: big ? 'cards big' : 'cards' }, carried.cards.map(({ card, votes }) => draw(card, votes))));
}

// --- the phone -----------------------------------------------------------------------------------

/**
 * The phone's board. options: { round, votes (myVotes of the open round), pending (commands on
 * their way), view: { editing, confirmWithdraw } }; actions: send, refresh, edit(card) (opens
 * the edit form), buildOn(card) (opens the add form on it), experiment(card) (makes one's own
 * idea an experiment), and vote/unvote through voteControls.
 */
export function renderBoard(store, actions, { round = null, votes = null, pending = [], view = {} } = {}) {
  const phase = store.session.phase;
  const inRound = new Set(round ? round.cards : []);
  const cards = [...store.cards.values()].filter((c) => c.status === 'visible' && (c.phase === phase || inRound.has(c.id)));
  const carried = carriedOver(store, phase);
  const shown = new Set([...cards, ...(carried ? carried.cards.map((x) => x.card) : [])].map((c) => c.id));
  const draw = (card, carriedVotes) => boardCard(store, actions, card, { round, votes, view, shown, carriedVotes });
  const waiting = pendingCards(pending);
  const top = topLevel(cards, shown);
  return h('section', { class: 'cards-section', 'aria-labelledby': 'cards-heading' },
    h('h2', { id: 'cards-heading', tabindex: '-1' }, t('cardsHeading')),
    mergedNotice(store),
    carriedSection(store, draw),
    top.length || waiting.length
      ? h('ul', { class: 'cards', id: 'cards' }, top.map((c) => draw(c)), waiting)
      : h('p', { class: 'empty' }, t('noCards')),
    earlierPhases(store, (card) => boardCard(store, actions, card, { view, shown: new Set(), readOnly: true })));
}

/** One's own cards the facilitator merged into another, each with the card it went into. */
function mergedNotice(store) {
  const merged = (store.you?.cards || []).map((id) => store.cards.get(id)).filter((c) => c?.status === 'merged' && c.merged_into);
  if (!merged.length) return null;
  return h('ul', { class: 'merged-notice', id: 'merged-notice' }, merged.map((c) => h('li', { 'data-card': c.id, 'data-into': c.merged_into },
    t('yourCardMerged', { text: store.cards.get(c.merged_into)?.text ?? t('hiddenCard') }))));
}

/** Every earlier phase's visible cards, each phase folded away: earlier work stays in reach. */
export function earlierPhases(store, draw) {
  const phase = store.session.phase;
  const phases = PHASES.filter((n) => n < phase).map((n) => ({ n, cards: visibleCards(store, n) })).filter((p) => p.cards.length);
  if (!phases.length) return null;
  return h('section', { class: 'earlier', id: 'earlier', 'aria-labelledby': 'earlier-heading' },
    h('h3', { id: 'earlier-heading' }, t('earlierHeading')),
    phases.map(({ n, cards }) => h('details', { class: 'earlier-phase', 'data-phase': n },
      h('summary', {}, t('earlierPhase', { n, name: t(`phase.${n}`), count: cards.length })),
      h('ul', { class: 'cards' }, cards.map(draw)))));
}

function boardCard(store, actions, card, { round = null, votes = null, view = {}, shown, carriedVotes, readOnly = false, underIdea = false }) {
  const own = isOwnCard(store, card.id);
  const act = canAct(store, actions);
  const editable = own && act && !readOnly;
  return cardView(card, {
    className: own ? 'card own' : 'card',
    author: own ? t('yourCard') : byAuthor(store, card),
    badges: carriedVotes ? h('span', { class: 'badge votes' }, voteCount(carriedVotes)) : null,
    textId: readOnly ? `card-text-e-${card.id}` : `card-text-${card.id}`,
    store,
    thread: !underIdea,
    below: [
      editable && view.confirmWithdraw === card.id ? withdrawConfirm(actions, card, view) : null,
      act && view.confirmWithdraw !== card.id && view.editing !== card.id
        ? cardActions(store, actions, card, { own: editable, readOnly, view, frozen: Boolean(round?.cards.includes(card.id)) }) : null,
      round && act && !readOnly && round.cards.includes(card.id) ? voteControls(actions, round, card, votes) : null,
    ],
    nested: readOnly ? null : conditionList(store, card, (c) => boardCard(store, actions, c, { round, votes, view, shown, underIdea: true })),
  });
}

/** "Build on this" on every card; on one's own: change, withdraw, and (from phase 3, an idea
 * not tried yet) make it an experiment. */
function cardActions(store, actions, card, { own, readOnly, view, frozen = false }) {
  const textId = readOnly ? `card-text-e-${card.id}` : `card-text-${card.id}`;
  const key = readOnly ? `e-${card.id}` : card.id;
  const button = (name, text, onclick) => h('button', {
    type: 'button', class: 'secondary small', 'data-key': `${name}-${key}`, 'aria-describedby': textId, onclick,
  }, text);
  const tried = all(store, 'experiments').some((e) => e.from_card === card.id);
  return h('div', { class: 'card-actions' },
    button('build', t('buildOnButton'), () => actions.buildOn(card)),
    own && isIdea(card) && !tried && store.session.phase >= 3 ? button('try', t('makeExperiment'), () => actions.experiment(card)) : null,
    // While people vote on it, its text stays what they read (the server holds it too).
    own && frozen ? h('p', { class: 'hint card-frozen', id: `frozen-${key}` }, t('cardFrozen')) : null,
    own && !frozen ? button('edit', t('editButton'), () => actions.edit(card)) : null,
    own && !frozen ? button('withdraw', t('withdrawButton'), () => {
      view.confirmWithdraw = card.id;
      refreshAndFocus(actions, `[data-key="withdraw-no-${CSS.escape(card.id)}"]`);
    }) : null);
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

/** The carried-over cards and the current phase's cards in large type, conditions under
 * their idea, with totals while a live round shows them. options: { skipKinds (kinds another
 * part of the screen shows, e.g. lessons) }. */
export function renderBigCards(store, actions, { skipKinds = [] } = {}) {
  const round = openRound(store);
  const cards = visibleCards(store, store.session.phase).filter((c) => !skipKinds.includes(c.kind));
  const carried = carriedOver(store, store.session.phase);
  const shown = new Set([...cards, ...(carried ? carried.cards.map((x) => x.card) : [])].map((c) => c.id));
  const draw = (card, votes, underIdea = false) => cardView(card, {
    store,
    thread: !underIdea,
    badges: votes ? h('span', { class: 'badge votes' }, voteCount(votes)) : votesBadge(round, card),
    nested: conditionList(store, card, (c) => draw(c, null, true)),
  });
  const top = topLevel(cards, shown);
  return h('section', { class: 'board', 'aria-labelledby': 'cards-heading' },
    h('h2', { id: 'cards-heading', class: 'sr-only' }, t('cardsHeading')),
    carriedSection(store, draw, { big: true }),
    top.length
      ? h('ul', { class: 'cards big', id: 'cards' }, top.map((card) => draw(card)))
      : visibleCards(store, store.session.phase).length ? null : h('p', { class: 'empty' }, t('noCards')));
}
