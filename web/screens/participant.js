// Participant (phone, 360 px, one hand): the session, the current phase, its cards, adding and
// changing one's own cards, and voting with the remaining budget always in view.

import { h, replace } from '../dom.js';
import { t, suggest } from '../i18n.js';
import { forgetToken } from '../api.js';
import { field, errorText, messagePage, phaseBlock, ranking, announce, showError, showConnection, setTitle, markShown } from '../ui.js';
import {
  openRound, lastClosedRound, isOwnCard, authorName, myVotes, totalFor, kindForPhase,
  CARD_KINDS, CARD_MAX, charCount,
} from '../model.js';

export const NAME = 'participant';

export function start(main, { conn, onForgotten }) {
  const draft = { text: '', kind: null, editText: '' };
  let editing = null; // id of the own card being changed
  let confirmWithdraw = null; // id of the own card waiting for "yes, withdraw"
  let final = null;
  let shownPhase = null;
  let shownRound; // id of the open round last shown (null: none), to announce changes
  let focusedTitle = false;
  let regions = null;

  window.__tafel = conn.testHooks();
  showConnection(conn);

  conn.on('change', () => {
    // Speak the session's language, unless this person chose one or the phone is in English.
    if (conn.store.session) suggest(conn.store.session.language);
    update();
  });
  conn.on('error', (err) => showError(errorText(err)));
  conn.on('final', (err) => {
    if (err.code === 'bad_token') {
      conn.close();
      onForgotten();
      return;
    }
    if (err.code === 'session_not_found') forgetToken('participant', conn.code);
    final = err;
    render();
  });

  const store = () => conn.store;
  const ended = () => store().session?.status === 'ended';

  /** Sends a command; an error is shown in plain words. Resolves to the result or null. */
  async function run(cmd, doneText) {
    try {
      const result = await conn.send(cmd);
      if (doneText) announce(doneText);
      return result;
    } catch (err) {
      showError(errorText(err));
      return null;
    }
  }

  // --- adding and changing cards ----------------------------------------------------------

  function onAdd(event) {
    event.preventDefault();
    const text = draft.text.trim();
    if (!text) {
      showError(t('cardEmpty'));
      document.getElementById('card-text').focus();
      return;
    }
    const kind = draft.kind || kindForPhase(store().session.phase);
    draft.text = '';
    const textarea = document.getElementById('card-text');
    textarea.value = '';
    updateCounter(textarea, 'card-text-count');
    run({ type: 'add_card', text, kind }, t('cardAdded')).then((result) => {
      if (!result && !draft.text) {
        // Refused: give the text back so nothing typed is lost.
        draft.text = text;
        const again = document.getElementById('card-text');
        if (again) {
          again.value = text;
          updateCounter(again, 'card-text-count');
        }
      }
    });
  }

  function startEdit(card) {
    editing = card.id;
    confirmWithdraw = null;
    draft.editText = card.text || '';
    renderForm();
    update();
    const textarea = document.getElementById('edit-text');
    textarea.focus();
    textarea.scrollIntoView({ block: 'center' });
  }

  function stopEdit() {
    const id = editing;
    editing = null;
    renderForm();
    update();
    document.querySelector(`[data-key="edit-${CSS.escape(id)}"]`)?.focus();
  }

  function onSaveEdit(event) {
    event.preventDefault();
    const text = draft.editText.trim();
    if (!text) {
      showError(t('cardEmpty'));
      return;
    }
    run({ type: 'edit_card', card: editing, text }, t('cardSaved'));
    stopEdit();
  }

  function updateCounter(textarea, counterId) {
    const counter = document.getElementById(counterId);
    if (counter) counter.textContent = t('charsLeft', { n: charCount(textarea.value), max: CARD_MAX });
  }

  function addForm() {
    const phase = store().session.phase;
    const kind = draft.kind || kindForPhase(phase);
    return h('form', { class: 'panel add-card', id: 'add-card-form', novalidate: true, onsubmit: onAdd, 'aria-labelledby': 'add-card-heading' },
      h('h2', { id: 'add-card-heading' }, t('addCardHeading')),
      field({
        id: 'card-text', label: t('cardTextLabel'),
        control: h('textarea', {
          name: 'text', rows: 3, maxlength: CARD_MAX, value: draft.text,
          'aria-describedby': 'card-text-count',
          oninput: (event) => {
            draft.text = event.target.value;
            updateCounter(event.target, 'card-text-count');
          },
        }),
        extra: h('p', { class: 'counter', id: 'card-text-count' }, t('charsLeft', { n: charCount(draft.text), max: CARD_MAX })),
      }),
      h('div', { class: 'row' },
        field({
          id: 'card-kind', label: t('cardKindLabel'),
          control: h('select', {
            name: 'kind', onchange: (event) => {
              draft.kind = event.target.value;
            },
          }, CARD_KINDS.map((k) => h('option', { value: k, selected: k === kind }, t(`kind.${k}`)))),
        }),
        h('button', { type: 'submit', class: 'primary', id: 'add-card-button' }, t('addCardButton'))));
  }

  function editForm() {
    return h('form', { class: 'panel add-card editing', id: 'edit-card-form', novalidate: true, onsubmit: onSaveEdit, 'aria-labelledby': 'edit-card-heading' },
      h('h2', { id: 'edit-card-heading' }, t('editCardHeading')),
      field({
        id: 'edit-text', label: t('cardTextLabel'),
        control: h('textarea', {
          name: 'text', rows: 4, maxlength: CARD_MAX, value: draft.editText,
          oninput: (event) => {
            draft.editText = event.target.value;
            updateCounter(event.target, 'edit-text-count');
          },
        }),
        extra: h('p', { class: 'counter', id: 'edit-text-count' }, t('charsLeft', { n: charCount(draft.editText), max: CARD_MAX })),
      }),
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'primary' }, t('saveButton')),
        h('button', { type: 'button', class: 'secondary', onclick: stopEdit }, t('cancelButton'))));
  }

  // The form is built only when needed (not on every change in the room), so typing — with a
  // phone keyboard's word suggestions too — is never interrupted by someone else's card.
  function renderForm() {
    if (!regions) return;
    if (ended()) replace(regions.form);
    else replace(regions.form, editing ? editForm() : addForm());
  }

  // --- voting --------------------------------------------------------------------------------

  function vote(round, card, votes) {
    const mine = votes.perCard.get(card.id) || 0;
    if (votes.remaining <= 0) return showError(t('noVotesLeft'));
    if (mine >= round.max_per_card) return showError(t('maxOnCard', { max: round.max_per_card }));
    run({ type: 'vote', round: round.id, card: card.id }).then((result) => {
      if (result) announceVotes(round);
    });
    return undefined;
  }

  function unvote(round, card, votes) {
    if (!(votes.perCard.get(card.id) > 0)) return;
    run({ type: 'unvote', round: round.id, card: card.id }).then((result) => {
      if (result) announceVotes(round);
    });
  }

  function announceVotes(round) {
    const votes = myVotes(store(), round, conn.pending());
    announce(t('votesLeft', { n: votes.remaining, budget: round.budget }));
  }

  function voteControls(round, card, votes) {
    const mine = votes.perCard.get(card.id) || 0;
    const cannotAdd = votes.remaining <= 0 || mine >= round.max_per_card;
    const textId = `card-text-${card.id}`;
    return h('div', { class: 'vote', role: 'group', 'aria-label': t('roundOpenHeading') },
      h('button', {
        type: 'button', class: 'vote-button', 'data-key': `unvote-${card.id}`, 'aria-label': t('unvoteFor'),
        'aria-describedby': textId, 'aria-disabled': mine === 0 ? 'true' : null,
        onclick: () => unvote(round, card, votes),
      }, '−'),
      h('span', { class: 'vote-count', 'data-votes': mine },
        h('span', { 'aria-hidden': 'true' }, String(mine)),
        h('span', { class: 'sr-only' }, t('yourVotes', { n: mine }))),
      h('button', {
        type: 'button', class: 'vote-button', 'data-key': `vote-${card.id}`, 'aria-label': t('voteFor'),
        'aria-describedby': textId, 'aria-disabled': cannotAdd ? 'true' : null,
        onclick: () => vote(round, card, votes),
      }, '+'),
      round.results ? h('span', { class: 'vote-total' }, t('totalVotes', { n: totalFor(round, card.id) })) : null);
  }

  // --- the board -----------------------------------------------------------------------------

  function cardItem(card, round, votes) {
    const s = store();
    const own = isOwnCard(s, card.id);
    const author = own ? t('yourCard') : authorName(s, card) ? t('byName', { name: authorName(s, card) }) : null;
    const canAct = !ended();
    return h('li', { class: own ? 'card own' : 'card', 'data-card': card.id },
      h('p', { class: 'card-meta' },
        h('span', { class: 'card-kind' }, t(`kind.${card.kind}`)),
        author ? h('span', { class: 'card-author' }, author) : null),
      h('p', { class: 'card-text', id: `card-text-${card.id}` }, card.text || ''),
      own && canAct && confirmWithdraw === card.id
        ? h('div', { class: 'confirm', role: 'group', 'aria-labelledby': `confirm-${card.id}` },
          h('p', { id: `confirm-${card.id}` }, t('withdrawConfirm')),
          h('div', { class: 'row' },
            h('button', {
              type: 'button', class: 'danger', 'data-key': `withdraw-yes-${card.id}`,
              onclick: () => {
                confirmWithdraw = null;
                run({ type: 'withdraw_card', card: card.id }, t('cardWithdrawn'));
                update();
                document.getElementById('cards-heading')?.focus();
              },
            }, t('withdrawYes')),
            h('button', {
              type: 'button', class: 'secondary', 'data-key': `withdraw-no-${card.id}`,
              onclick: () => {
                confirmWithdraw = null;
                update();
                document.querySelector(`[data-key="withdraw-${CSS.escape(card.id)}"]`)?.focus();
              },
            }, t('cancelButton'))))
        : null,
      own && canAct && confirmWithdraw !== card.id && editing !== card.id
        ? h('div', { class: 'card-actions' },
          h('button', { type: 'button', class: 'secondary small', 'data-key': `edit-${card.id}`, 'aria-describedby': `card-text-${card.id}`, onclick: () => startEdit(card) }, t('editButton')),
          h('button', {
            type: 'button', class: 'secondary small', 'data-key': `withdraw-${card.id}`, 'aria-describedby': `card-text-${card.id}`,
            onclick: () => {
              confirmWithdraw = card.id;
              update();
              document.querySelector(`[data-key="withdraw-no-${CSS.escape(card.id)}"]`)?.focus();
            },
          }, t('withdrawButton')))
        : null,
      round && canAct && round.cards.includes(card.id) ? voteControls(round, card, votes) : null);
  }

  /** Cards still on their way to the server, shown so nothing seems lost while offline. */
  function pendingCards() {
    return conn.pending().filter((e) => e.cmd.type === 'add_card').map((e) => h('li', { class: 'card card-pending' },
      h('p', { class: 'card-meta' }, h('span', { class: 'card-kind' }, t(`kind.${e.cmd.kind}`)), h('span', { class: 'card-author' }, t('sending'))),
      h('p', { class: 'card-text' }, e.cmd.text)));
  }

  function cardsSection(round, votes) {
    const s = store();
    const phase = s.session.phase;
    const inRound = new Set(round ? round.cards : []);
    const cards = [...s.cards.values()].filter((c) => c.status === 'visible' && (c.phase === phase || inRound.has(c.id)));
    const pending = pendingCards();
    return h('section', { class: 'cards-section', 'aria-labelledby': 'cards-heading' },
      h('h2', { id: 'cards-heading', tabindex: '-1' }, t('cardsHeading')),
      cards.length || pending.length
        ? h('ul', { class: 'cards', id: 'cards' }, cards.map((c) => cardItem(c, round, votes)), pending)
        : h('p', { class: 'empty' }, t('noCards')));
  }

  function roundSection(round) {
    if (round) {
      return h('section', { class: 'panel round', 'aria-labelledby': 'round-heading' },
        h('h2', { id: 'round-heading' }, t('roundOpenHeading')),
        h('p', {}, t('roundOpenText', { max: round.max_per_card })));
    }
    const closed = lastClosedRound(store(), store().session.phase);
    if (!closed) return null;
    return h('section', { class: 'panel result', 'aria-labelledby': 'result-heading' },
      h('h2', { id: 'result-heading' }, t('resultHeading')),
      ranking(store(), closed));
  }

  function budgetBar(round, votes) {
    if (!round || ended()) return null;
    return h('p', { class: 'budget', id: 'budget', 'data-remaining': votes.remaining },
      h('span', { class: 'budget-number', 'aria-hidden': 'true' }, String(votes.remaining)),
      h('span', { class: 'budget-text' }, t('votesLeftShort', { n: votes.remaining, budget: round.budget })));
  }

  function header() {
    const session = store().session;
    return [
      h('h1', { id: 'session-title', tabindex: '-1', 'data-key': 'session-title' }, session.title),
      session.problem ? h('details', { class: 'problem', open: true },
        h('summary', {}, t('problemHeading')),
        h('p', { class: 'problem-text' }, session.problem)) : null,
      session.status === 'ended' ? h('p', { class: 'notice', id: 'ended-notice' }, t('sessionEndedNotice')) : null,
    ];
  }

  /**
   * While a round is open the cards (with their vote buttons) come first and the add-card form
   * moves below them. It never moves while someone is typing in it.
   */
  function placeForm(afterCards) {
    if (regions.formAfterCards === afterCards || regions.form.contains(document.activeElement)) return;
    if (afterCards) regions.cards.after(regions.form);
    else regions.cards.before(regions.form);
    regions.formAfterCards = afterCards;
  }

  /** Updates everything that follows the room; leaves the form alone. */
  function update() {
    if (final || !store().ready) return render();
    if (!regions) return render();
    const s = store();
    setTitle(s.session.title);
    markShown();
    const round = openRound(s);
    const votes = round ? myVotes(s, round, conn.pending()) : null;
    if (shownPhase !== null && shownPhase !== s.session.phase) {
      announce(t('phaseChanged', { n: s.session.phase }));
      const select = document.getElementById('card-kind');
      if (select && !draft.kind) select.value = kindForPhase(s.session.phase);
    }
    shownPhase = s.session.phase;
    const roundId = round ? round.id : null;
    if (shownRound !== undefined && shownRound !== roundId) {
      announce(round ? t('roundOpenedParticipant', { n: votes.remaining }) : t('roundClosed'));
    }
    shownRound = roundId;
    // The problem's <details> keeps whether the person opened or closed it.
    const details = regions.head.querySelector('details');
    const open = details ? details.open : true;
    replace(regions.head, header());
    const again = regions.head.querySelector('details');
    if (again) again.open = open;
    replace(regions.phase, phaseBlock(s.session.phase));
    replace(regions.round, roundSection(round));
    replace(regions.cards, cardsSection(round, votes));
    replace(regions.budget, budgetBar(round, votes));
    placeForm(Boolean(round && !ended()));
    if (ended() && regions.form.firstChild) renderForm();
  }

  function render() {
    if (final) {
      regions = null;
      setTitle(null);
      const text = final.code === 'session_not_found' ? t('noSession') : errorText(final);
      replace(main, messagePage(text, h('a', { class: 'button', href: '/' }, t('toHome'))));
      return;
    }
    if (!store().ready) {
      regions = null;
      replace(main, h('p', { class: 'loading', role: 'status' }, t('connecting')));
      return;
    }
    regions = {
      head: h('div', { class: 'session-head' }),
      phase: h('div', {}),
      round: h('div', {}),
      form: h('div', {}),
      cards: h('div', {}),
      budget: h('div', { class: 'budget-wrap' }),
      formAfterCards: false,
    };
    replace(main, regions.head, regions.phase, regions.round, regions.form, regions.cards, regions.budget);
    renderForm();
    update();
    if (!focusedTitle) {
      // Arriving (after joining, or coming back): start reading at the session's title.
      focusedTitle = true;
      document.getElementById('session-title')?.focus({ preventScroll: true });
    }
  }

  render();
  return { render };
}
