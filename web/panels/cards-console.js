// Cards panel, the console's side: keeping the board tidy.
//
// - renderAllCards: every card, the current phase first (conditions under their idea) and
//   each earlier or later phase folded away, with hiding, restoring, merging, and (from
//   phase 3) making an idea an experiment.
// - renderMergeForm: merging a card into another of its phase (a form: nothing read-only).
//
// Needs from the store: session (phase, status), cards, rounds (totals), participants
// (authors), experiments (ideas tried). Render functions take (store, actions, options), see ui.js; with actions null
// there is nothing to press.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct, cardLabel, field } from '../ui.js';
import { all, experimentFromCard, isIdea, openRound, shorten, visibleCards, PHASES } from '../model.js';
import { byAuthor, cardView, conditionList, topLevel, votesBadge } from './cards.js';

const STATUS_WORDS = { hidden: 'statusHidden', withdrawn: 'statusWithdrawn', merged: 'statusMerged' };

/** Every card, for keeping the board tidy. actions: send, merge(card) (opens the merge form),
 * experiment(card) (makes an idea an experiment). */
export function renderAllCards(store, actions) {
  const phase = store.session.phase;
  const round = openRound(store);
  const cards = [...store.cards.values()];
  const here = cards.filter((c) => c.phase === phase);
  // Conditions are drawn under their idea when both are in the same list, else on their own.
  const shownIn = (list) => new Set(list.map((c) => c.id));
  const drawIn = (within) => {
    const draw = (c) => consoleCard(store, actions, c, round, conditionList(store, c, (x) => consoleCard(store, actions, x, round, null, false), within));
    return draw;
  };
  const list = (group, attrs) => h('ul', attrs, topLevel(group, shownIn(group)).map(drawIn(shownIn(group))));
  const others = PHASES.filter((n) => n !== phase).map((n) => ({ n, cards: cards.filter((c) => c.phase === n) })).filter((p) => p.cards.length);
  return h('section', { class: 'panel cards-section', 'aria-labelledby': 'cards-heading' },
    h('h2', { id: 'cards-heading', tabindex: '-1' }, t('allCardsHeading')),
    here.length ? list(here, { class: 'cards', id: 'cards' }) : h('p', { class: 'empty' }, t('noCards')),
    others.map(({ n, cards: inPhase }) => h('details', { class: 'other-phases', 'data-phase': n },
      h('summary', {}, t('earlierPhase', { n, name: t(`phase.${n}`), count: inPhase.length })),
      list(inPhase, { class: 'cards' }))));
}

function consoleCard(store, actions, card, round, nested, thread = true) {
  const statusWord = STATUS_WORDS[card.status];
  const buttons = canAct(store, actions) ? moderation(store, actions, card) : [];
  return cardView(card, {
    className: `card status-${card.status}`,
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
  return [];
}

/**
 * Merging a card into another of its phase. options: { card (the card object), draft:
 * { mergeTarget } }. actions: send, close(merged) (the screen closes the form; merged: whether
 * it was sent).
 */
export function renderMergeForm(store, actions, { card, draft }) {
  if (!actions) return null;
  const targets = visibleCards(store, card.phase).filter((c) => c.id !== card.id);
  const onMerge = (event) => {
    event.preventDefault();
    const into = draft.mergeTarget || targets[0]?.id;
    if (!into) return;
    actions.send({ type: 'merge_cards', card: card.id, into });
    actions.close(true);
  };
  return h('form', { class: 'panel merge', id: 'merge-form', onsubmit: onMerge, 'aria-labelledby': 'merge-heading' },
    h('h3', { id: 'merge-heading' }, t('mergeButton').replace('…', '')),
    h('p', { class: 'card-text' }, card.text ?? ''),
    targets.length
      ? field({
        id: 'merge-target', label: t('mergeInto'),
        control: h('select', { onchange: (e) => { draft.mergeTarget = e.target.value; } },
          targets.map((c) => h('option', { value: c.id }, shorten(c.text ?? c.id)))),
      })
      : h('p', {}, t('mergeNone')),
    h('div', { class: 'row' },
      targets.length ? h('button', { type: 'submit', class: 'primary' }, t('mergeYes')) : null,
      h('button', { type: 'button', class: 'secondary', onclick: () => actions.close(false) }, t('cancelButton'))));
}
