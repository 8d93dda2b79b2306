// Floor panel: who has the floor (with the turn's countdown), who is next, and the hands.
//
// - renderFloor (phone): who speaks; during one's own turn a big countdown and "I am done";
//   else one's place in the queue and why, raising and lowering one's hand (or a direct
//   response), passing in round order, the wait after a violation and one's share of the floor.
// - renderFloorConsole (console): the speaker, giving the floor to the next, ending the turn,
//   pausing; the queue with giving the floor to anyone in it and lowering hands.
//   renderGiveAny (console): a form to give the floor to someone without a hand up.
// - renderFloorBoard (projector): the speaker with a huge countdown, the first few of the queue
//   and, while the facilitator shows it, the balance.
//
// Needs from the store: floor, floorAt (for the countdown), participants (names), you (one's
// own floor: hand, wait, share). The countdowns tick on through ui.js's startFloorClock.
// Render functions take (store, actions, options), see ui.js; with actions null there is
// nothing to press. The phone's buttons call refresh() once their command is done.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct, countdownView, field, personName, sendAndRefresh, showError } from '../ui.js';
import {
  clock, isEnded, ownShare, participants, percent, queuePlace, responsesLeft, canRespond, serverNow, timeOfDay,
} from '../model.js';
import { balanceSummary } from './balance.js';

/** How many of the queue the big screen names. */
const QUEUE_SHOWN = 4;

/** The badge of a direct-response hand. */
function responseBadge() {
  return h('span', { class: 'badge response' }, t('handResponse'));
}

// --- the phone -----------------------------------------------------------------------------------

/** The floor as one participant sees it. */
export function renderFloor(store, actions) {
  const floor = store.floor;
  if (!floor) return null;
  const me = store.you?.id;
  const yours = store.you?.floor || {};
  const turn = floor.turn;
  const mine = Boolean(turn && turn.speaker === me);
  const place = queuePlace(floor, me);
  const waitUntil = yours.hand_wait_until;
  const serverTime = serverNow(floor, store.floorAt, performance.now());
  const act = canAct(store, actions);
  const handUnlisted = !place && yours.hand && !(waitUntil > serverTime);
  return h('section', { class: mine ? 'panel floor speaking' : 'panel floor', id: 'floor', 'aria-labelledby': 'floor-heading' },
    h('h2', { id: 'floor-heading', tabindex: '-1', class: mine ? 'sr-only' : null }, t('floorHeading')),
    floor.paused ? h('p', { class: 'floor-paused', id: 'floor-paused' }, t('floorPaused')) : null,
    mine && act ? myTurn(store, actions) : speakerLine(store),
    !mine && act ? placeText(place, floor) : null,
    !mine && act && handUnlisted ? h('p', { class: 'queue-place', id: 'queue-place', 'data-place': 'later' }, t('placeLater', { n: floor.waiting })) : null,
    !mine && act && floor.settings.order === 'round' && !place
      ? h('p', { class: 'hint' }, yours.passed ? t('roundPassed') : t('roundNotInQueue')) : null,
    !mine && act ? handButtons(store, actions, place) : null,
    waitUntil && waitUntil > serverTime
      ? h('p', { class: 'hand-wait', id: 'hand-wait' }, t('handWaitsUntil', { time: timeOfDay(waitUntil - serverTime + Date.now()) })) : null,
    // "Not spoken yet" is said once: by the reason of one's place, or here.
    (mine && act) || place?.entry.reason === 'not_spoken_yet' ? null : shareLine(floor, yours));
}

/** Whose turn it is, with a small countdown; or that nobody speaks. */
function speakerLine(store) {
  const turn = store.floor.turn;
  if (!turn) return h('p', { class: 'speaker-line', id: 'speaker-line' }, t('nobodySpeaks'));
  return h('p', { class: 'speaker-line', id: 'speaker-line' },
    h('span', { class: 'speaker-name' }, t('speaksNow', { name: personName(store, turn.speaker) })),
    ' ',
    countdownView(store, 'speaker-countdown', 'countdown-small'));
}

/** Shown while this person has the floor: a big countdown and "I am done". */
function myTurn(store, actions) {
  const turn = store.floor.turn;
  return h('div', { class: 'my-turn', id: 'my-turn', 'data-turn': turn.id },
    h('p', { class: 'my-turn-title' }, turn.kind === 'response' ? t('yourResponseNow') : t('yourTurnNow')),
    h('p', { class: 'my-turn-clock' }, countdownView(store, 'turn-countdown', 'countdown-big')),
    h('p', { class: 'my-turn-hint' }, t('turnLimit', { time: clock(turn.limit_ms / 1000) })),
    h('button', {
      type: 'button', class: 'primary wide', id: 'end-turn', 'data-key': 'end-turn',
      onclick: () => sendAndRefresh(actions, { type: 'end_turn' }, t('turnEndedByYou')),
    }, t('endMyTurn')));
}

/** One's place in the queue and why, in plain words. */
function placeText(place, floor) {
  if (!place) return null;
  const where = place.place === 1 ? t('placeNext') : t('placeN', { n: place.place });
  const reason = t(`reason.${place.entry.reason}`, { factor: floor.settings.fair_share });
  return h('p', { class: 'queue-place', id: 'queue-place', 'data-place': place.place, 'data-reason': place.entry.reason },
    h('strong', {}, where), ' ', h('span', { class: 'queue-reason' }, reason));
}

function handButtons(store, actions, place) {
  const floor = store.floor;
  const yours = store.you?.floor || {};
  // One's own hand comes from one's own data: the queue may not list it (far down the line,
  // or waiting after a report).
  const hand = yours.hand || null;
  const button = (id, className, text, onclick, attrs) => h('button', { type: 'button', class: `${className} big-button`, id, 'data-key': id, ...attrs, onclick }, text);
  const buttons = [];
  if (hand) {
    buttons.push(button('lower-hand', 'secondary', hand === 'response' ? t('lowerResponse') : t('lowerHand'),
      () => sendAndRefresh(actions, { type: 'lower_hand' }, t('handLowered'))));
  } else if (floor.settings.order !== 'round') {
    buttons.push(button('raise-hand', 'primary', t('raiseHand'),
      () => sendAndRefresh(actions, { type: 'raise_hand', kind: 'hand' }, t('handRaised'))));
  }
  if (floor.settings.order === 'round' && place && !hand && !yours.passed) {
    buttons.push(button('pass-turn', 'secondary', t('passButton'), () => sendAndRefresh(actions, { type: 'pass' }, t('passed'))));
  }
  let responseHint = null;
  if (canRespond(floor, store.you?.id) && hand !== 'response') {
    const left = responsesLeft(floor, yours);
    buttons.push(button('raise-response', 'secondary', t('raiseResponse'), () => {
      if (left <= 0) return showError(t('error.response_cap'));
      return sendAndRefresh(actions, { type: 'raise_hand', kind: 'response' }, t('responseRaised'));
    }, { 'aria-describedby': 'response-hint', 'aria-disabled': left <= 0 ? 'true' : null }));
    responseHint = h('p', { class: 'hint', id: 'response-hint' },
      left > 0 ? t('responsesLeft', { n: left }) : t('noResponsesLeft'));
  }
  return [buttons.length ? h('div', { class: 'hand-buttons' }, buttons) : null, responseHint];
}

function shareLine(floor, yours) {
  const share = ownShare(floor, yours);
  let text;
  if (share.turns === 0) text = t('shareNone');
  else if (share.minutes < 1) text = t('shareUnderMinute', { pct: percent(share.fraction) });
  else text = t('shareMinutes', { min: share.minutes, pct: percent(share.fraction) });
  return h('p', { class: 'share', id: 'my-share', 'data-floor-ms': share.ms }, text);
}

// --- the console ---------------------------------------------------------------------------------

/** The floor as the facilitator runs it: the speaker, the buttons, the queue. */
export function renderFloorConsole(store, actions) {
  const floor = store.floor;
  if (!floor) return null;
  const turn = floor.turn;
  const act = canAct(store, actions);
  const next = floor.queue[0];
  return h('section', { class: 'panel floor-console', id: 'floor', 'aria-labelledby': 'floor-heading' },
    h('h2', { id: 'floor-heading' }, t('floorHeading')),
    floor.paused ? h('p', { class: 'floor-paused', id: 'floor-paused' }, t('floorPausedFacilitator')) : null,
    turn
      ? h('div', { class: 'speaker-box', 'data-speaker': turn.speaker, 'data-turn': turn.id },
        h('p', { class: 'label' }, t('speakingNow')),
        h('p', { class: 'speaker-name', id: 'fac-speaker' }, personName(store, turn.speaker),
          turn.kind !== 'hand' ? h('span', { class: 'badge' }, t(`turnKind.${turn.kind}`)) : null),
        h('p', { class: 'fac-clock' }, countdownView(store, 'fac-countdown', 'countdown-mid')),
        h('p', { class: 'hint' }, t('turnLimitMode', { time: clock(turn.limit_ms / 1000), mode: t(`mode.${floor.settings.mode}`) })))
      : h('p', { class: 'speaker-box empty', id: 'fac-speaker-none' }, t('nobodySpeaks')),
    act ? floorButtons(actions, floor, next) : null,
    act && next ? h('p', { class: 'hint', id: 'give-next-hint' }, t('nextIs', { name: personName(store, next.participant) })) : null,
    h('h3', { id: 'queue-heading' }, t('queueHeading', { n: floor.queue.length })),
    floor.queue.length
      ? h('ol', { class: 'queue', id: 'queue', 'aria-labelledby': 'queue-heading' }, floor.queue.map((entry, i) => queueItem(store, actions, entry, i, act)))
      : h('p', { class: 'empty' }, floor.settings.order === 'round' ? t('queueEmptyRound') : t('noHands')));
}

/** Give the floor to the next, end the turn, pause or go on. */
function floorButtons(actions, floor, next) {
  const button = (id, className, key, text, cmd, doneText, attrs) => h('button', {
    type: 'button', class: className, id, 'data-key': key, ...attrs, onclick: () => actions.send(cmd, doneText),
  }, text);
  return h('div', { class: 'row floor-actions' },
    button('give-next', 'primary', 'give-next', t('giveNext'), { type: 'give_floor' }, t('floorGiven'), { 'aria-describedby': next ? 'give-next-hint' : null }),
    floor.turn ? button('fac-end-turn', 'secondary', 'fac-end-turn', t('endTurn'), { type: 'end_turn' }, t('turnEnded')) : null,
    // One key for both, so focus stays on the button as it turns into the other.
    floor.paused
      ? button('fac-resume', 'secondary', 'fac-pause', t('resumeFloor'), { type: 'resume_floor' }, t('floorResumed'))
      : button('fac-pause', 'secondary', 'fac-pause', t('pauseFloor'), { type: 'pause_floor' }, t('floorPausedShort')));
}

function queueItem(store, actions, entry, i, act) {
  const id = entry.participant;
  const nameId = `queue-name-${id}`;
  return h('li', { class: 'queue-item', 'data-participant': id, 'data-reason': entry.reason },
    h('span', { class: 'rank', 'aria-hidden': 'true' }, String(i + 1)),
    h('div', { class: 'queue-who' },
      h('span', { class: 'person-name', id: nameId }, personName(store, id)),
      h('span', { class: 'queue-meta' },
        entry.hand === 'response' && entry.reason !== 'response' ? responseBadge() : null,
        h('span', { class: `reason reason-${entry.reason}` }, t(`reasonShort.${entry.reason}`)),
        entry.raised_at ? h('span', { class: 'queue-time' }, t('raisedAt', { time: timeOfDay(entry.raised_at) })) : null)),
    act ? h('div', { class: 'queue-actions' },
      h('button', {
        type: 'button', class: 'secondary small', 'data-key': `give-${id}`, 'aria-describedby': nameId,
        onclick: () => actions.send({ type: 'give_floor', to: id }, t('floorGiven')),
      }, t('giveFloor')),
      entry.hand ? h('button', {
        type: 'button', class: 'secondary small', 'data-key': `lower-${id}`, 'aria-describedby': nameId,
        onclick: () => actions.send({ type: 'lower_hand', participant: id }, t('handLowered')),
      }, t('lowerHandOf')) : null) : null);
}

/**
 * Give the floor to someone without a raised hand. options: { draft: { giveTo } } (kept on
 * someone who can be chosen).
 */
export function renderGiveAny(store, actions, { draft }) {
  const floor = store.floor;
  if (!floor || !canAct(store, actions)) return null;
  const inQueue = new Set(floor.queue.map((e) => e.participant));
  const people = participants(store).filter((p) => !inQueue.has(p.id) && p.id !== floor.turn?.speaker);
  if (!people.length) return null;
  if (!people.some((p) => p.id === draft.giveTo)) draft.giveTo = people[0].id;
  const onGive = (event) => {
    event.preventDefault();
    if (draft.giveTo) actions.send({ type: 'give_floor', to: draft.giveTo }, t('floorGiven'));
  };
  return h('form', { class: 'give-any', id: 'give-any-form', onsubmit: onGive },
    h('div', { class: 'row' },
      field({
        id: 'give-to', label: t('giveToLabel'),
        control: h('select', { onchange: (e) => { draft.giveTo = e.target.value; } },
          people.map((p) => h('option', { value: p.id, selected: p.id === draft.giveTo }, `${p.name} (${t(`perspective.${p.perspective}`)})`))),
      }),
      h('button', { type: 'submit', class: 'secondary', id: 'give-to-button' }, t('giveFloor'))));
}

// --- the projector -------------------------------------------------------------------------------

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
