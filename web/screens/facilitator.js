// Facilitator console (/f/CODE#token; laptop or tablet, also fine on a phone): invite people,
// see who is there, move through the phases, keep the board tidy, run voting rounds, and lock
// or end the session.

import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { qrUrl, getToken, setToken, forgetToken, takeTokenFromFragment } from '../api.js';
import { connect } from '../conn.js';
import {
  field, errorText, messagePage, phaseBlock, ranking, announce, showError, showConnection, setTitle,
  copyField, cardLabel, voteCount,
} from '../ui.js';
import { openRound, lastClosedRound, participants, visibleCards, totalFor, PHASES, BUDGET_MAX } from '../model.js';

export const NAME = 'facilitator';

export function start(main, { code }) {
  const token = takeTokenFromFragment('facilitator', code);
  if (!token) {
    const render = () => {
      setTitle(null);
      replace(main, messagePage(t('noFacilitatorToken'), h('a', { class: 'button', href: '/' }, t('toHome'))));
    };
    render();
    return { render };
  }

  const conn = connect({ code, kind: 'facilitator' });
  const draft = { budget: '5', maxPerCard: '3', live: false, mergeTarget: '' };
  let merging = null; // id of the card being merged into another
  let confirmEnd = false;
  let final = null;
  let regions = null;
  let roundShown; // the open round the voting form was built for

  window.__tafel = conn.testHooks();
  showConnection(conn);
  conn.on('change', () => update());
  conn.on('error', (err) => showError(errorText(err)));
  conn.on('final', (err) => {
    if (err.code === 'bad_token') forgetToken('facilitator', code);
    final = err;
    render();
  });

  const store = () => conn.store;
  const ended = () => store().session?.status === 'ended';

  async function run(cmd, doneText) {
    try {
      const result = await conn.send(cmd);
      announce(doneText || t('done'));
      return result;
    } catch (err) {
      showError(errorText(err));
      return null;
    }
  }

  // --- invite ----------------------------------------------------------------------------------

  function inviteSection() {
    const session = store().session;
    const projectorToken = getToken('projector', code);
    const projectorLink = projectorToken ? `${new URL(`/p/${code}`, session.join_url).href}#${projectorToken}` : null;
    const facilitatorLink = `${new URL(`/f/${code}`, session.join_url).href}#${token}`;
    return h('section', { class: 'panel invite', 'aria-labelledby': 'invite-heading' },
      h('h2', { id: 'invite-heading' }, t('inviteHeading')),
      h('div', { class: 'invite-grid' },
        h('div', {},
          h('p', { class: 'label' }, t('joinCodeLabel')),
          h('p', { class: 'join-code', id: 'join-code' }, session.code)),
        h('img', { class: 'qr', src: qrUrl(session.code), alt: t('qrAlt'), width: 160, height: 160 })),
      copyField('join-link', t('joinLinkLabel'), session.join_url),
      projectorLink
        ? copyField('projector-link', t('projectorLinkLabel'), projectorLink)
        : h('div', {},
          h('p', { class: 'hint' }, t('projectorLinkUnknown')),
          h('button', { type: 'button', class: 'secondary', 'data-key': 'projector-link', onclick: newProjectorLink }, t('projectorLinkNew'))),
      h('details', { class: 'secret' },
        h('summary', {}, t('facilitatorLinkLabel')),
        copyField('facilitator-link', t('facilitatorLinkLabel'), facilitatorLink)));
  }

  // Tokens are stored hashed, so a facilitator on another device asks for a new projector link.
  async function newProjectorLink() {
    const result = await run({ type: 'projector_link' }, t('projectorLinkMade'));
    const made = result?.projector_url?.split('#')[1];
    if (made) {
      setToken('projector', code, made);
      update();
      document.getElementById('projector-link')?.focus();
    }
  }

  // --- session status ----------------------------------------------------------------------------

  function sessionSection() {
    const status = store().session.status;
    const statusText = { open: t('statusOpen'), locked: t('statusLocked'), ended: t('statusEnded') }[status];
    const actions = [];
    if (status === 'open') actions.push(h('button', { type: 'button', class: 'secondary', 'data-key': 'lock', onclick: () => run({ type: 'lock' }, t('statusLocked')) }, t('lockButton')));
    if (status === 'locked') actions.push(h('button', { type: 'button', class: 'secondary', 'data-key': 'unlock', onclick: () => run({ type: 'unlock' }, t('statusOpen')) }, t('unlockButton')));
    if (status !== 'ended' && !confirmEnd) {
      actions.push(h('button', {
        type: 'button', class: 'danger-outline', 'data-key': 'end',
        onclick: () => {
          confirmEnd = true;
          update();
          document.querySelector('[data-key="end-no"]')?.focus();
        },
      }, t('endButton')));
    }
    return h('section', { class: 'panel', 'aria-labelledby': 'session-heading' },
      h('h2', { id: 'session-heading' }, t('sessionHeading')),
      h('p', { class: `status status-${status}`, id: 'session-status', 'data-status': status }, statusText),
      actions.length ? h('div', { class: 'row' }, actions) : null,
      confirmEnd && status !== 'ended'
        ? h('div', { class: 'confirm', role: 'group', 'aria-labelledby': 'end-confirm' },
          h('p', { id: 'end-confirm' }, t('endConfirm')),
          h('div', { class: 'row' },
            h('button', {
              type: 'button', class: 'danger', 'data-key': 'end-yes',
              onclick: () => {
                confirmEnd = false;
                run({ type: 'end' }, t('statusEnded'));
              },
            }, t('endYes')),
            h('button', {
              type: 'button', class: 'secondary', 'data-key': 'end-no',
              onclick: () => {
                confirmEnd = false;
                update();
                document.querySelector('[data-key="end"]')?.focus();
              },
            }, t('cancelButton'))))
        : null);
  }

  // --- phases ------------------------------------------------------------------------------------

  function phaseSection() {
    const current = store().session.phase;
    return h('section', { class: 'panel', 'aria-labelledby': 'phase-heading' },
      h('h2', { id: 'phase-heading' }, t('phaseHeading')),
      h('div', { class: 'phase-buttons' },
        PHASES.map((n) => h('button', {
          type: 'button', class: n === current ? 'phase-button current' : 'phase-button',
          'data-key': `phase-${n}`, 'aria-pressed': String(n === current), disabled: ended(),
          onclick: () => {
            if (n !== current) run({ type: 'set_phase', phase: n }, t('phaseChanged', { n }));
          },
        }, h('span', { class: 'phase-button-number' }, String(n)), h('span', {}, t(`phase.${n}`))))),
      phaseBlock(current, { headingLevel: 'h3' }));
  }

  // --- voting ------------------------------------------------------------------------------------

  function openForm() {
    const phase = store().session.phase;
    const hasCards = visibleCards(store(), phase).length > 0;
    const onOpen = (event) => {
      event.preventDefault();
      const budget = Number.parseInt(draft.budget, 10);
      const maxPerCard = Number.parseInt(draft.maxPerCard, 10);
      if (!(budget >= 1 && budget <= BUDGET_MAX) || !(maxPerCard >= 1 && maxPerCard <= budget)) {
        showError(t('error.invalid'));
        return;
      }
      run({ type: 'open_round', phase, budget, max_per_card: maxPerCard, live: draft.live }, t('roundOpened'));
    };
    return h('form', { id: 'open-round-form', novalidate: true, onsubmit: onOpen },
      hasCards ? null : h('p', { class: 'hint' }, t('noVisibleCards')),
      h('div', { class: 'row' },
        field({
          id: 'budget', label: t('budgetLabel'),
          control: h('input', { type: 'number', min: 1, max: BUDGET_MAX, inputmode: 'numeric', value: draft.budget, oninput: (e) => { draft.budget = e.target.value; } }),
        }),
        field({
          id: 'max-per-card', label: t('maxPerCardLabel'),
          control: h('input', { type: 'number', min: 1, max: BUDGET_MAX, inputmode: 'numeric', value: draft.maxPerCard, oninput: (e) => { draft.maxPerCard = e.target.value; } }),
        })),
      h('div', { class: 'choice' },
        h('input', { type: 'checkbox', id: 'live', checked: draft.live, onchange: (e) => { draft.live = e.target.checked; } }),
        h('label', { for: 'live' }, t('liveLabel'))),
      h('button', { type: 'submit', class: 'primary', id: 'open-round', disabled: ended() }, t('openRoundButton')));
  }

  function roundStatus() {
    const s = store();
    const round = openRound(s);
    const total = participants(s).length;
    if (round) {
      return h('div', { class: 'round-status' },
        h('p', { id: 'round-state' }, t('roundRunning')),
        h('p', { class: 'progress-text', id: 'voters', 'data-voters': round.voters, 'data-of': total }, t('votersProgress', { n: round.voters, m: total })),
        h('progress', { max: Math.max(total, 1), value: round.voters, 'aria-labelledby': 'voters' }),
        round.results ? [h('h3', {}, t('liveResults')), ranking(s, round, { id: 'live-ranking' })] : null,
        h('button', {
          type: 'button', class: 'primary', id: 'close-round', 'data-key': 'close-round',
          onclick: () => run({ type: 'close_round', round: round.id }, t('roundClosed')),
        }, t('closeRoundButton')));
    }
    const closed = lastClosedRound(s, s.session.phase);
    if (!closed) return null;
    return h('div', { class: 'result' },
      h('h3', { id: 'result-heading' }, t('resultHeading')),
      ranking(s, closed));
  }

  // --- participants --------------------------------------------------------------------------------

  function participantsSection() {
    const all = [...store().participants.values()];
    const count = participants(store()).length;
    return h('section', { class: 'panel', 'aria-labelledby': 'participants-heading' },
      h('h2', { id: 'participants-heading' }, t('participantsHeading', { n: count })),
      count === 0 ? h('p', { class: 'empty' }, t('noParticipants')) : null,
      h('ul', { class: 'people', id: 'people' }, all.map((p) => h('li', { class: 'person', 'data-participant': p.id },
        h('span', { class: 'person-name' }, p.name),
        personRole(p),
        h('span', { class: p.online ? 'presence on' : 'presence off' }, p.online ? t('isOnline') : t('isOffline'))))));
  }

  // --- cards ---------------------------------------------------------------------------------------

  function cardItem(card, round, showPhase = false) {
    const s = store();
    const author = card.author ? s.participants.get(card.author)?.name : null;
    const statusWord = { hidden: t('statusHidden'), withdrawn: t('statusWithdrawn'), merged: t('statusMerged') }[card.status];
    const actions = [];
    if (!ended() && card.status === 'visible') {
      actions.push(h('button', { type: 'button', class: 'secondary small', 'data-key': `hide-${card.id}`, 'aria-describedby': `fcard-${card.id}`, onclick: () => run({ type: 'hide_card', card: card.id }) }, t('hideButton')));
      actions.push(h('button', {
        type: 'button', class: 'secondary small', 'data-key': `merge-${card.id}`, 'aria-describedby': `fcard-${card.id}`,
        onclick: () => startMerge(card),
      }, t('mergeButton')));
    }
    if (!ended() && card.status === 'hidden') {
      actions.push(h('button', { type: 'button', class: 'secondary small', 'data-key': `restore-${card.id}`, 'aria-describedby': `fcard-${card.id}`, onclick: () => run({ type: 'restore_card', card: card.id }) }, t('restoreButton')));
    }
    return h('li', { class: `card status-${card.status}`, 'data-card': card.id, 'data-status': card.status },
      h('p', { class: 'card-meta' },
        showPhase ? h('span', { class: 'card-phase' }, t('phaseOf', { n: card.phase })) : null,
        h('span', { class: 'card-kind' }, t(`kind.${card.kind}`)),
        author ? h('span', { class: 'card-author' }, t('byName', { name: author })) : null,
        statusWord ? h('span', { class: 'badge' }, statusWord) : null,
        round && round.results && round.cards.includes(card.id) ? h('span', { class: 'badge votes' }, voteCount(totalFor(round, card.id))) : null),
      h('p', { class: 'card-text', id: `fcard-${card.id}` }, card.text ?? ''),
      card.status === 'merged' && card.merged_into
        ? h('p', { class: 'hint' }, `${t('mergedInto')}: `, cardLabel(s, card.merged_into)) : null,
      actions.length ? h('div', { class: 'card-actions' }, actions) : null);
  }

  function startMerge(card) {
    merging = card.id;
    draft.mergeTarget = '';
    renderMerge();
    document.getElementById('merge-target')?.focus();
  }

  function stopMerge() {
    const id = merging;
    merging = null;
    renderMerge();
    document.querySelector(`[data-key="merge-${CSS.escape(id)}"]`)?.focus();
  }

  // The merge chooser has its own region, built only when it opens, so a busy room does not
  // close its drop-down list while the facilitator is choosing.
  function renderMerge() {
    if (!regions) return;
    if (!merging) return replace(regions.merge);
    const s = store();
    const card = s.cards.get(merging);
    const targets = visibleCards(s, card.phase).filter((c) => c.id !== card.id);
    const onMerge = (event) => {
      event.preventDefault();
      const into = draft.mergeTarget || targets[0]?.id;
      if (!into) return;
      run({ type: 'merge_cards', card: card.id, into });
      merging = null;
      renderMerge();
      document.getElementById('cards-heading')?.focus();
    };
    return replace(regions.merge, h('form', { class: 'panel merge', id: 'merge-form', onsubmit: onMerge, 'aria-labelledby': 'merge-heading' },
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
        h('button', { type: 'button', class: 'secondary', onclick: stopMerge }, t('cancelButton')))));
  }

  function cardsSection() {
    const s = store();
    const phase = s.session.phase;
    const round = openRound(s);
    const all = [...s.cards.values()];
    const here = all.filter((c) => c.phase === phase);
    const other = all.filter((c) => c.phase !== phase);
    return h('section', { class: 'panel cards-section', 'aria-labelledby': 'cards-heading' },
      h('h2', { id: 'cards-heading', tabindex: '-1' }, t('allCardsHeading')),
      here.length ? h('ul', { class: 'cards', id: 'cards' }, here.map((c) => cardItem(c, round))) : h('p', { class: 'empty' }, t('noCards')),
      other.length ? h('details', { class: 'other-phases' },
        h('summary', {}, t('otherPhasesHeading', { n: other.length })),
        h('ul', { class: 'cards' }, other.map((c) => cardItem(c, round, true)))) : null);
  }

  // --- putting it together ------------------------------------------------------------------------

  function update() {
    if (final || !store().ready || !regions) return render();
    const s = store();
    setTitle(`${t('facilitatorHeading')}: ${s.session.title}`);
    replace(regions.head,
      h('p', { class: 'eyebrow' }, t('facilitatorHeading')),
      h('h1', {}, s.session.title),
      s.session.problem ? h('p', { class: 'problem-text' }, s.session.problem) : null);
    replace(regions.invite, inviteSection());
    replace(regions.session, sessionSection());
    replace(regions.phase, phaseSection());
    const round = openRound(s);
    const roundKey = ended() ? 'ended' : round ? round.id : 'none';
    if (roundKey !== roundShown) {
      roundShown = roundKey;
      replace(regions.votingForm, round || ended() ? null : openForm());
    }
    replace(regions.votingStatus, roundStatus());
    replace(regions.people, participantsSection());
    replace(regions.cards, cardsSection());
    if (merging && s.cards.get(merging)?.status !== 'visible') {
      merging = null;
      renderMerge();
    }
  }

  function render() {
    if (final) {
      regions = null;
      setTitle(null);
      const text = final.code === 'bad_token' ? t('badLink') : final.code === 'session_not_found' ? t('noSession') : errorText(final);
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
      invite: h('div', {}),
      session: h('div', {}),
      phase: h('div', {}),
      votingForm: h('div', {}),
      votingStatus: h('div', {}),
      people: h('div', {}),
      merge: h('div', {}),
      cards: h('div', {}),
    };
    roundShown = undefined;
    replace(main,
      regions.head,
      h('div', { class: 'console' },
        h('div', { class: 'console-col' },
          regions.invite,
          regions.phase,
          h('section', { class: 'panel voting', 'aria-labelledby': 'voting-heading' },
            h('h2', { id: 'voting-heading' }, t('votingHeading')),
            regions.votingForm,
            regions.votingStatus)),
        h('div', { class: 'console-col' },
          regions.people,
          regions.merge,
          regions.cards,
          regions.session)));
    renderMerge();
    update();
  }

  render();
  return { render };
}

/** A person's perspective, or "facilitator" (unless their name already says so). */
function personRole(p) {
  const label = p.role === 'facilitator' ? t('facilitatorRole') : t(`perspective.${p.perspective}`);
  if (label.toLowerCase() === p.name.trim().toLowerCase()) return null;
  return h('span', { class: 'person-perspective' }, label);
}

function shorten(text) {
  const chars = [...text];
  return chars.length > 60 ? `${chars.slice(0, 57).join('')}…` : text;
}
