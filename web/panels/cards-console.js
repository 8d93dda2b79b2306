// Cards panel, the console's side: keeping the board tidy.
//
// - renderAllCards: every card, the current phase first (conditions under their idea) and
//   each earlier or later phase folded away, with hiding, restoring, merging (pick the card,
//   then the card it goes into; undo on the merged card), and (from phase 3) making an idea an
//   experiment. Withdrawn cards have no text for anyone: they are counted, not drawn.
//
// Needs from the store: session (phase, status), cards, rounds (totals), participants
// (authors), experiments (ideas tried). Render functions take (store, actions, options), see ui.js; with actions null
// there is nothing to press.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct, cardLabel } from '../ui.js';
import { all, experimentFromCard, isIdea, openRound, shorten, PHASES } from '../model.js';
import { byAuthor, cardView, conditionList, topLevel, votesBadge } from './cards.js';
import { shownRound } from './voting-console.js';

const STATUS_WORDS = { hidden: 'statusHidden', withdrawn: 'statusWithdrawn', merged: 'statusMerged' };

/**
 * Every card, for keeping the board tidy. actions: send, merge(card) (choose the card to merge
 * with), mergeInto(card) (merge the chosen one into this one), cancelMerge(). options: { view:
 * { showTotals }, merging (the card being merged, or null) }.
 */
export function renderAllCards(store, actions, { view = {}, merging = null } = {}) {
  const phase = store.session.phase;
  const round = shownRound(openRound(store), view);
  const every = [...store.cards.values()];
  const cards = every.filter((c) => c.status !== 'withdrawn');
  const withdrawn = every.length - cards.length;
  const picking = merging && canAct(store, actions) ? merging : null;
  const here = cards.filter((c) => c.phase === phase);
  // Conditions are drawn under their idea when both are in the same list, else on their own.
  const shownIn = (list) => new Set(list.map((c) => c.id));
  const drawIn = (within) => {
    const draw = (c) => consoleCard(store, actions, c, round, conditionList(store, c, (x) => consoleCard(store, actions, x, round, null, false, picking), within), true, picking);
    return draw;
  };
  const list = (group, attrs) => h('ul', attrs, topLevel(group, shownIn(group)).map(drawIn(shownIn(group))));
  const others = PHASES.filter((n) => n !== phase).map((n) => ({ n, cards: cards.filter((c) => c.phase === n) })).filter((p) => p.cards.length);
  return h('section', { class: 'panel cards-section', 'aria-labelledby': 'cards-heading' },
    h('h2', { id: 'cards-heading', tabindex: '-1' }, t('allCardsHeading')),
    picking ? mergeBanner(actions, picking, cards.some((c) => c.id !== picking.id && c.status === 'visible' && c.phase === picking.phase)) : null,
    here.length ? list(here, { class: 'cards', id: 'cards' }) : h('p', { class: 'empty' }, t('noCards')),
    withdrawn ? h('p', { class: 'hint', id: 'withdrawn-count' }, t('withdrawnCount', { n: withdrawn })) : null,
    others.map(({ n, cards: inPhase }) => h('details', { class: 'other-phases', 'data-phase': n },
      h('summary', {}, t('earlierPhase', { n, name: t(`phase.${n}`), count: inPhase.length })),
      list(inPhase, { class: 'cards' }))));
}

/** "Choose the card to merge … with", and a way out. */
function mergeBanner(actions, card, targets) {
  return h('div', { class: 'merge-banner', id: 'merge-banner', role: 'group', 'aria-labelledby': 'merge-pick' },
    h('p', { id: 'merge-pick', tabindex: '-1' }, t('mergePick', { text: shorten(card.text ?? '') })),
    h('p', { class: 'hint' }, targets ? t('mergePickHint') : t('mergeNone')),
    h('button', { type: 'button', class: 'secondary small', id: 'merge-cancel', 'data-key': 'merge-cancel', onclick: () => actions.cancelMerge() }, t('mergeCancel')));
}

function consoleCard(store, actions, card, round, nested, thread = true, picking = null) {
  const statusWord = STATUS_WORDS[card.status];
  let buttons = canAct(store, actions) ? moderation(store, actions, card) : [];
  if (picking) {
    // Choosing where a card goes: every other visible card of its phase is a target.
    const target = card.id !== picking.id && card.status === 'visible' && card.phase === picking.phase;
    buttons = target
      ? [h('button', { type: 'button', class: 'primary small', 'data-key': `merge-into-${card.id}`, 'aria-describedby': `fcard-${card.id}`, onclick: () => actions.mergeInto(card) }, t('mergeWith'))]
      : [];
  }
  return cardView(card, {
    className: `card status-${card.status}${picking?.id === card.id ? ' merging' : ''}`,
    status: true,
    store,
    thread,
    author: byAuthor(store, card),
    badges: [statusWord ? h('span', { class: 'badge' }, t(statusWord)) : null, votesBadge(round, card)],
    textId: `fcard-${card.id}`,
    below: [
      card.status === 'merged' && card.merged_into
        ? h('p', { class: 'hint' }, `${t('mergedInto')}: `, cardLabel(store, card.merged_into)) : null,
      buttons.length ? h('div', { class: 'card-actions' }, buttons) : null,
    ],
    nested,
  });
}

/** Hide and merge a visible card (and from phase 3 make an idea an experiment); restore a
 * hidden one. */
function moderation(store, actions, card) {
  const button = (key, text, onclick) => h('button', { type: 'button', class: 'secondary small', 'data-key': `${key}-${card.id}`, 'aria-describedby': `fcard-${card.id}`, onclick }, text);
  if (card.status === 'visible') {
    const tryIt = store.session.phase >= 3 && isIdea(card) && !all(store, 'experiments').some((e) => e.from_card === card.id);
    return [
      tryIt ? button('try', t('makeExperiment'), () => actions.send(experimentFromCard(card), t('experimentMade'))) : null,
      button('hide', t('hideButton'), () => actions.send({ type: 'hide_card', card: card.id })),
      button('merge', t('mergeButton'), () => actions.merge(card)),
    ];
  }
  if (card.status === 'hidden') return [button('restore', t('restoreButton'), () => actions.send({ type: 'restore_card', card: card.id }))];
  if (card.status === 'merged') return [button('unmerge', t('unmergeButton'), () => actions.send({ type: 'unmerge_card', card: card.id }, t('unmergedDone')))];
  return [];
}
