// Facilitator console (/f/CODE#token; laptop or tablet, also fine on a phone): invite people,
// see who is there, give the floor and watch its balance, keep the ground rules and decide on
// reported violations, move through the phases, keep the board tidy, run voting rounds, and
// lock or end the session.

import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { qrUrl, getToken, setToken, forgetToken, takeTokenFromFragment } from '../api.js';
import { connect } from '../conn.js';
import {
  field, errorText, messagePage, phaseBlock, ranking, announce, showError, showConnection, setTitle,
  copyField, cardLabel, voteCount, personName, countdownView, startFloorClock, figureText, figureWords,
} from '../ui.js';
import {
  openRound, lastClosedRound, participants, visibleCards, totalFor, PHASES, BUDGET_MAX,
  clock, duration, percent, ruleById, sortedReports, timeOfDay, charCount,
  QUEUE_ORDERS, TURN_SECS, RESPONSE_SECS, FAIR_SHARE, RESPONSE_CAP, HAND_WAIT_MINUTES, RULE_MAX,
} from '../model.js';

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
  // Parts with form fields are built again only when what they show changed (and not while
  // the facilitator is typing in them), so a busy room never closes a drop-down list.
  const built = { give: null, settings: null, rules: null, reports: null };
  const deferred = new Set();
  const ruleDrafts = new Map(); // rule id → text being edited
  const floorDraft = { giveTo: '', newRule: '' };
  const reportDrafts = new Map(); // report id → { consequence: 'none' | 'warning' | 'hand_wait', minutes }

  window.__tafel = conn.testHooks();
  showConnection(conn);
  startFloorClock(() => conn.store);
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


  // --- the floor -------------------------------------------------------------------------------------

  function turnKindLabel(kind) {
    return t(`turnKind.${kind}`);
  }

  function floorSection() {
    const s = store();
    const floor = s.floor;
    if (!floor) return null;
    const turn = floor.turn;
    const canAct = !ended();
    const next = floor.queue[0];
    return h('section', { class: 'panel floor-console', id: 'floor', 'aria-labelledby': 'floor-heading' },
      h('h2', { id: 'floor-heading' }, t('floorHeading')),
      floor.paused ? h('p', { class: 'floor-paused', id: 'floor-paused' }, t('floorPausedFacilitator')) : null,
      turn
        ? h('div', { class: 'speaker-box', 'data-speaker': turn.speaker, 'data-turn': turn.id },
          h('p', { class: 'label' }, t('speakingNow')),
          h('p', { class: 'speaker-name', id: 'fac-speaker' }, personName(s, turn.speaker),
            turn.kind !== 'hand' ? h('span', { class: 'badge' }, turnKindLabel(turn.kind)) : null),
          h('p', { class: 'fac-clock' }, countdownView(s, 'fac-countdown', 'countdown-mid')),
          h('p', { class: 'hint' }, t('turnLimitMode', { time: clock(turn.limit_ms / 1000), mode: t(`mode.${floor.settings.mode}`) })))
        : h('p', { class: 'speaker-box empty', id: 'fac-speaker-none' }, t('nobodySpeaks')),
      canAct ? h('div', { class: 'row floor-actions' },
        h('button', {
          type: 'button', class: 'primary', id: 'give-next', 'data-key': 'give-next',
          'aria-describedby': next ? 'give-next-hint' : null,
          onclick: () => run({ type: 'give_floor' }, t('floorGiven')),
        }, t('giveNext')),
        turn ? h('button', {
          type: 'button', class: 'secondary', id: 'fac-end-turn', 'data-key': 'fac-end-turn',
          onclick: () => run({ type: 'end_turn' }, t('turnEnded')),
        }, t('endTurn')) : null,
        floor.paused
          ? h('button', { type: 'button', class: 'secondary', id: 'fac-resume', 'data-key': 'fac-pause', onclick: () => run({ type: 'resume_floor' }, t('floorResumed')) }, t('resumeFloor'))
          : h('button', { type: 'button', class: 'secondary', id: 'fac-pause', 'data-key': 'fac-pause', onclick: () => run({ type: 'pause_floor' }, t('floorPausedShort')) }, t('pauseFloor'))) : null,
      canAct && next ? h('p', { class: 'hint', id: 'give-next-hint' }, t('nextIs', { name: personName(s, next.participant) })) : null,
      h('h3', { id: 'queue-heading' }, t('queueHeading', { n: floor.queue.length })),
      floor.queue.length
        ? h('ol', { class: 'queue', id: 'queue', 'aria-labelledby': 'queue-heading' }, floor.queue.map((entry, i) => queueItem(entry, i, canAct)))
        : h('p', { class: 'empty' }, floor.settings.order === 'round' ? t('queueEmptyRound') : t('noHands')));
  }

  function queueItem(entry, i, canAct) {
    const s = store();
    const id = entry.participant;
    const nameId = `queue-name-${id}`;
    return h('li', { class: 'queue-item', 'data-participant': id, 'data-reason': entry.reason },
      h('span', { class: 'rank', 'aria-hidden': 'true' }, String(i + 1)),
      h('div', { class: 'queue-who' },
        h('span', { class: 'person-name', id: nameId }, personName(s, id)),
        h('span', { class: 'queue-meta' },
          entry.hand === 'response' && entry.reason !== 'response' ? h('span', { class: 'badge response' }, t('handResponse')) : null,
          h('span', { class: `reason reason-${entry.reason}` }, t(`reasonShort.${entry.reason}`)),
          entry.raised_at ? h('span', { class: 'queue-time' }, t('raisedAt', { time: timeOfDay(entry.raised_at) })) : null)),
      canAct ? h('div', { class: 'queue-actions' },
        h('button', {
          type: 'button', class: 'secondary small', 'data-key': `give-${id}`, 'aria-describedby': nameId,
          onclick: () => run({ type: 'give_floor', to: id }, t('floorGiven')),
        }, t('giveFloor')),
        entry.hand ? h('button', {
          type: 'button', class: 'secondary small', 'data-key': `lower-${id}`, 'aria-describedby': nameId,
          onclick: () => run({ type: 'lower_hand', participant: id }, t('handLowered')),
        }, t('lowerHandOf')) : null) : null);
  }

  /** Give the floor to someone without a raised hand. */
  function giveAnySection() {
    const s = store();
    const floor = s.floor;
    if (!floor || ended()) return null;
    const inQueue = new Set(floor.queue.map((e) => e.participant));
    const people = participants(s).filter((p) => !inQueue.has(p.id) && p.id !== floor.turn?.speaker);
    if (!people.length) return null;
    if (!people.some((p) => p.id === floorDraft.giveTo)) floorDraft.giveTo = people[0].id;
    const onGive = (event) => {
      event.preventDefault();
      if (floorDraft.giveTo) run({ type: 'give_floor', to: floorDraft.giveTo }, t('floorGiven'));
    };
    return h('form', { class: 'give-any', id: 'give-any-form', onsubmit: onGive },
      h('div', { class: 'row' },
        field({
          id: 'give-to', label: t('giveToLabel'),
          control: h('select', { onchange: (e) => { floorDraft.giveTo = e.target.value; } },
            people.map((p) => h('option', { value: p.id, selected: p.id === floorDraft.giveTo }, `${p.name} (${t(`perspective.${p.perspective}`)})`))),
        }),
        h('button', { type: 'submit', class: 'secondary', id: 'give-to-button' }, t('giveFloor'))));
  }

  // --- floor settings --------------------------------------------------------------------------------

  function settingsSection() {
    const floor = store().floor;
    if (!floor) return null;
    const set = floor.settings;
    const change = (key, value) => run({ type: 'floor_settings', [key]: value }, t('settingsSaved'));
    const number = (key, range, { float = false } = {}) => (event) => {
      const value = float ? Number.parseFloat(String(event.target.value).replace(',', '.')) : Number.parseInt(event.target.value, 10);
      if (!Number.isFinite(value) || value < range.min || value > range.max) {
        showError(t('numberRange', { min: range.min, max: range.max }));
        event.target.value = String(set[key]);
        return;
      }
      // The fair-share factor is kept to one decimal.
      change(key, float ? Math.round(value * 10) / 10 : value);
    };
    const disabled = ended();
    return h('form', { class: 'floor-settings', id: 'floor-settings-form', novalidate: true, onsubmit: (e) => e.preventDefault() },
      field({
        id: 'floor-order', label: t('orderLabel'),
        control: h('select', { disabled, onchange: (e) => change('order', e.target.value) },
          QUEUE_ORDERS.map((o) => h('option', { value: o, selected: o === set.order }, t(`order.${o}`)))),
      }),
      h('div', { class: 'row' },
        field({
          id: 'turn-secs', label: t('turnSecsLabel'),
          control: h('input', { type: 'number', min: TURN_SECS.min, max: TURN_SECS.max, inputmode: 'numeric', value: String(set.turn_secs), disabled, onchange: number('turn_secs', TURN_SECS) }),
        }),
        field({
          id: 'response-secs', label: t('responseSecsLabel'),
          control: h('input', { type: 'number', min: RESPONSE_SECS.min, max: RESPONSE_SECS.max, inputmode: 'numeric', value: String(set.response_secs), disabled, onchange: number('response_secs', RESPONSE_SECS) }),
        })),
      field({
        id: 'floor-mode', label: t('modeLabel'),
        control: h('select', { disabled, onchange: (e) => change('mode', e.target.value) },
          ['hard', 'soft'].map((m) => h('option', { value: m, selected: m === set.mode }, t(`modeLong.${m}`)))),
      }),
      h('div', { class: 'row' },
        field({
          id: 'fair-share', label: t('fairShareLabel'), hint: t('fairShareHint'),
          control: h('input', { type: 'number', min: FAIR_SHARE.min, max: FAIR_SHARE.max, step: '0.1', inputmode: 'decimal', value: String(set.fair_share), disabled, onchange: number('fair_share', FAIR_SHARE, { float: true }) }),
        }),
        field({
          id: 'response-cap', label: t('responseCapLabel'), hint: t('responseCapHint'),
          control: h('input', { type: 'number', min: RESPONSE_CAP.min, max: RESPONSE_CAP.max, inputmode: 'numeric', value: String(set.response_cap), disabled, onchange: number('response_cap', RESPONSE_CAP) }),
        })),
      h('div', { class: 'choice' },
        h('input', { type: 'checkbox', id: 'show-balance', checked: set.show_balance, disabled, onchange: (e) => change('show_balance', e.target.checked) }),
        h('label', { for: 'show-balance' }, t('showBalanceLabel'))));
  }

  // --- balance ---------------------------------------------------------------------------------------

  function balanceSection() {
    const s = store();
    const balance = s.floor?.balance;
    if (!balance) return null;
    // Lists the server leaves out when empty.
    const people = [...(balance.per_person || [])].sort((a, b) => b.floor_ms - a.floor_ms || b.turns - a.turns);
    const perspectives = balance.per_perspective || [];
    const top = people.find((p) => p.floor_ms > 0);
    const total = perspectives.reduce((sum, p) => sum + p.floor_ms, 0);
    return h('section', { class: 'panel balance', id: 'balance', 'aria-labelledby': 'balance-heading' },
      h('h2', { id: 'balance-heading' }, t('balanceHeading')),
      h('p', { class: 'balance-line' },
        h('span', { class: 'balance-figure', id: 'balance-figure', 'data-value': balance.figure ?? '' }, figureText(balance.figure)),
        h('span', { class: 'balance-word', id: 'balance-word' }, figureWords(balance.figure))),
      h('p', { class: 'hint' }, t('balanceExplain')),
      balance.top_share !== undefined && balance.top_share !== null && top
        ? h('p', { id: 'balance-top' }, t('topShare', { name: personName(s, top.participant), pct: percent(balance.top_share) }))
        : null,
      h('p', { id: 'balance-silent', 'data-silent': balance.silent }, balance.silent === 0 ? t('allSpoke') : t('silentCount', { n: balance.silent, m: balance.people })),
      people.length ? h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'balance-people-caption' },
        h('table', { class: 'floor-table', id: 'balance-people' },
          h('caption', { id: 'balance-people-caption' }, t('perPersonHeading')),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, t('colName')),
            h('th', { scope: 'col' }, t('colPerspective')),
            h('th', { scope: 'col', class: 'num' }, t('colFloorTime')),
            h('th', { scope: 'col', class: 'num' }, t('colTurns')),
            h('th', { scope: 'col', class: 'num' }, t('colViolations')))),
          h('tbody', {}, people.map((p) => {
            const person = s.participants.get(p.participant);
            return h('tr', { 'data-participant': p.participant },
              h('th', { scope: 'row' }, person?.name ?? t('someone')),
              h('td', {}, person ? t(`perspective.${person.perspective}`) : ''),
              h('td', { class: 'num' }, duration(p.floor_ms)),
              h('td', { class: 'num' }, String(p.turns)),
              h('td', { class: 'num' }, String(p.violations)));
          })))) : null,
      perspectives.length ? h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': 'balance-perspectives-caption' },
        h('table', { class: 'floor-table', id: 'balance-perspectives' },
          h('caption', { id: 'balance-perspectives-caption' }, t('perPerspectiveHeading')),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, t('colPerspective')),
            h('th', { scope: 'col', class: 'num' }, t('colPeople')),
            h('th', { scope: 'col', class: 'num' }, t('colFloorTime')),
            h('th', { scope: 'col', class: 'num' }, t('colTurns')),
            h('th', { scope: 'col', class: 'num' }, t('colShare')))),
          h('tbody', {}, perspectives.map((p) => h('tr', { 'data-perspective': p.perspective },
            h('th', { scope: 'row' }, t(`perspective.${p.perspective}`)),
            h('td', { class: 'num' }, String(p.people)),
            h('td', { class: 'num' }, duration(p.floor_ms)),
            h('td', { class: 'num' }, String(p.turns)),
            h('td', { class: 'num' }, total > 0 ? `${percent(p.floor_ms / total)}%` : '–')))))) : null);
  }

  // --- ground rules ------------------------------------------------------------------------------------

  function rulesTally() {
    const rules = store().rules;
    if (!rules) return null;
    return h('p', { class: 'rules-tally', id: 'rules-tally', 'data-agreed': rules.agreed, 'data-disagreed': rules.disagreed },
      rules.rules.length ? t('rulesTally', { yes: rules.agreed, no: rules.disagreed }) : t('noRulesYet'));
  }

  function rulesEditor() {
    const rules = store().rules;
    if (!rules) return null;
    const canAct = !ended();
    const save = (rule) => {
      const text = (ruleDrafts.get(rule.id) ?? rule.text).trim();
      if (!text || charCount(text) > RULE_MAX) return showError(t('ruleLength', { max: RULE_MAX }));
      if (text === rule.text) return undefined;
      ruleDrafts.delete(rule.id);
      return run({ type: 'set_rule', rule: rule.id, text }, t('ruleSaved'));
    };
    const add = (event) => {
      event.preventDefault();
      const text = floorDraft.newRule.trim();
      if (!text || charCount(text) > RULE_MAX) {
        showError(t('ruleLength', { max: RULE_MAX }));
        document.getElementById('new-rule')?.focus();
        return;
      }
      floorDraft.newRule = '';
      const input = document.getElementById('new-rule');
      if (input) input.value = '';
      run({ type: 'set_rule', text }, t('ruleAdded')).then((result) => {
        if (!result && !floorDraft.newRule) {
          floorDraft.newRule = text;
          const again = document.getElementById('new-rule');
          if (again) again.value = text;
        }
      });
    };
    return h('div', { class: 'rules-editor' },
      rules.rules.length ? h('ol', { class: 'rules-edit-list', id: 'rules-edit-list' }, rules.rules.map((rule, i) => {
        const inputId = `rule-text-${rule.id}`;
        return h('li', { 'data-rule': rule.id },
          h('label', { for: inputId, class: 'sr-only' }, t('ruleNumber', { n: i + 1 })),
          h('textarea', {
            id: inputId, 'data-key': inputId, rows: 2, maxlength: RULE_MAX, value: ruleDrafts.get(rule.id) ?? rule.text,
            disabled: !canAct,
            oninput: (e) => ruleDrafts.set(rule.id, e.target.value),
            onkeydown: (e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                save(rule);
              }
            },
          }),
          h('div', { class: 'rule-actions' },
            canAct ? h('button', { type: 'button', class: 'secondary small', 'data-key': `rule-save-${rule.id}`, 'aria-describedby': inputId, onclick: () => save(rule) }, t('saveButton')) : null,
            canAct ? h('button', {
              type: 'button', class: 'danger-outline small', 'data-key': `rule-remove-${rule.id}`, 'aria-describedby': inputId,
              onclick: () => {
                ruleDrafts.delete(rule.id);
                run({ type: 'remove_rule', rule: rule.id }, t('ruleRemoved'));
              },
            }, t('removeButton')) : null,
            rule.violations ? h('span', { class: 'badge' }, rule.violations === 1 ? t('brokenOnce') : t('brokenTimes', { n: rule.violations })) : null));
      })) : null,
      canAct ? h('form', { class: 'add-rule', id: 'add-rule-form', novalidate: true, onsubmit: add },
        field({
          id: 'new-rule', label: t('newRuleLabel'), hint: t('newRuleHint'),
          control: h('input', { type: 'text', maxlength: RULE_MAX, value: floorDraft.newRule, oninput: (e) => { floorDraft.newRule = e.target.value; } }),
        }),
        h('button', { type: 'submit', class: 'primary', id: 'add-rule' }, t('addRuleButton'))) : null);
  }

  // --- reports -------------------------------------------------------------------------------------------

  function reportsSection() {
    const s = store();
    const list = sortedReports(s.reports);
    const open = list.filter((r) => r.status === 'open').length;
    return h('section', { class: 'panel reports', id: 'reports', 'aria-labelledby': 'reports-heading' },
      h('h2', { id: 'reports-heading' }, t('reportsHeading', { n: open })),
      list.length
        ? h('ul', { class: 'report-list', id: 'report-list' }, list.map(reportItem))
        : h('p', { class: 'empty' }, t('noReports')));
  }

  function reportItem(report) {
    const s = store();
    const rule = ruleById(s.rules, report.rule);
    const textId = `report-${report.id}`;
    const draft = reportDrafts.get(report.id) || { consequence: 'none', minutes: '5' };
    reportDrafts.set(report.id, draft);
    const open = report.status === 'open' && !ended();
    const consequenceText = report.consequence
      ? report.consequence.type === 'hand_wait' ? t('consequenceHandWaitDone', { n: report.consequence.minutes }) : t('consequenceWarningDone')
      : null;
    const confirm = () => {
      const cmd = { type: 'confirm_flag', report: report.id };
      if (report.about && draft.consequence === 'warning') cmd.consequence = { type: 'warning' };
      if (report.about && draft.consequence === 'hand_wait') {
        const minutes = Number.parseInt(draft.minutes, 10);
        if (!(minutes >= HAND_WAIT_MINUTES.min && minutes <= HAND_WAIT_MINUTES.max)) {
          showError(t('numberRange', { min: HAND_WAIT_MINUTES.min, max: HAND_WAIT_MINUTES.max }));
          document.getElementById(`csq-min-${report.id}`)?.focus();
          return;
        }
        cmd.consequence = { type: 'hand_wait', minutes };
      }
      run(cmd, t('reportConfirmed'));
    };
    return h('li', { class: `report report-${report.status}`, 'data-report': report.id, 'data-status': report.status },
      h('p', { class: 'card-meta' },
        h('span', { class: `badge report-${report.status}` }, t(`reportStatusFac.${report.status}`)),
        h('span', {}, timeOfDay(report.at))),
      h('p', { class: 'report-rule', id: textId }, rule ? rule.text : t('ruleGone')),
      h('p', {}, report.about ? t('reportAbout', { name: personName(s, report.about) }) : t('reportAboutNobody')),
      report.note ? h('p', { class: 'report-note' }, report.note) : null,
      h('p', { class: 'hint' }, report.reporter ? t('reportBy', { name: personName(s, report.reporter) }) : t('reportAnonymous')),
      consequenceText ? h('p', {}, consequenceText) : null,
      open ? h('div', { class: 'report-actions' },
        report.about ? h('div', { class: 'row' },
          field({
            id: `csq-${report.id}`, label: t('consequenceLabel'),
            control: h('select', {
              'data-key': `csq-${report.id}`,
              onchange: (e) => {
                draft.consequence = e.target.value;
                const minutes = document.getElementById(`csq-min-wrap-${report.id}`);
                if (minutes) minutes.hidden = draft.consequence !== 'hand_wait';
              },
            }, ['none', 'warning', 'hand_wait'].map((c) => h('option', { value: c, selected: c === draft.consequence }, t(`consequence.${c}`)))),
          }),
          h('div', { id: `csq-min-wrap-${report.id}`, class: 'field-wrap', hidden: draft.consequence !== 'hand_wait' },
            field({
              id: `csq-min-${report.id}`, label: t('minutesLabel'),
              control: h('input', {
                type: 'number', min: HAND_WAIT_MINUTES.min, max: HAND_WAIT_MINUTES.max, inputmode: 'numeric', value: draft.minutes,
                'data-key': `csq-min-${report.id}`, oninput: (e) => { draft.minutes = e.target.value; },
              }),
            }))) : null,
        h('div', { class: 'row' },
          h('button', { type: 'button', class: 'primary small', 'data-key': `confirm-${report.id}`, 'aria-describedby': textId, onclick: confirm }, t('confirmReport')),
          h('button', { type: 'button', class: 'secondary small', 'data-key': `dismiss-${report.id}`, 'aria-describedby': textId, onclick: () => run({ type: 'dismiss_flag', report: report.id }, t('reportDismissed')) }, t('dismissReport')))) : null);
  }

  /** Builds a region again only when its key changed and nobody is typing in it. */
  function rebuild(name, region, key, build) {
    if (built[name] === key) return;
    const active = document.activeElement;
    const typing = active && region.contains(active) && ['INPUT', 'SELECT', 'TEXTAREA'].includes(active.tagName);
    if (typing && built[name] !== null) {
      // Try again once they leave the field.
      if (!deferred.has(name)) {
        deferred.add(name);
        region.addEventListener('focusout', () => {
          deferred.delete(name);
          // Not at once: a tap that moved focus away is still on its way to its button.
          setTimeout(update, 400);
        }, { once: true });
      }
      return;
    }
    built[name] = key;
    replace(region, build());
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
    // The floor, its balance, the ground rules and reports.
    const floor = s.floor;
    const names = [...s.participants.values()].map((p) => `${p.id}:${p.name}:${p.perspective}`).join('|');
    replace(regions.floor, floorSection());
    rebuild('give', regions.give, JSON.stringify([floor?.queue, floor?.turn?.speaker, names, ended()]), giveAnySection);
    rebuild('settings', regions.settings, JSON.stringify([floor?.settings, ended()]), settingsSection);
    replace(regions.balance, balanceSection());
    replace(regions.rulesTally, rulesTally());
    rebuild('rules', regions.rules, JSON.stringify([s.rules?.rules, ended()]), rulesEditor);
    rebuild('reports', regions.reports, JSON.stringify([[...s.reports.values()], s.rules?.rules, names, ended()]), reportsSection);
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
      floor: h('div', {}),
      give: h('div', {}),
      settings: h('div', {}),
      balance: h('div', {}),
      rulesTally: h('div', {}),
      rules: h('div', {}),
      reports: h('div', {}),
    };
    roundShown = undefined;
    for (const name of Object.keys(built)) built[name] = null;
    deferred.clear();
    replace(main,
      regions.head,
      h('div', { class: 'console' },
        h('div', { class: 'console-col' },
          h('div', { class: 'floor-wrap' },
            regions.floor,
            h('div', { class: 'panel floor-more' }, regions.give,
              h('details', { class: 'settings-details' },
                h('summary', {}, t('floorSettingsHeading')),
                regions.settings))),
          regions.invite,
          regions.phase,
          h('section', { class: 'panel voting', 'aria-labelledby': 'voting-heading' },
            h('h2', { id: 'voting-heading' }, t('votingHeading')),
            regions.votingForm,
            regions.votingStatus)),
        h('div', { class: 'console-col' },
          regions.balance,
          regions.reports,
          h('section', { class: 'panel rules-panel', 'aria-labelledby': 'rules-edit-heading' },
            h('h2', { id: 'rules-edit-heading' }, t('rulesHeading')),
            regions.rulesTally,
            regions.rules),
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
