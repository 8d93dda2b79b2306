// Floor panel: who has the floor (with the turn's countdown), who is next, and the hands.
//
// - renderFloor (phone): who speaks; during one's own turn a big countdown and "I am done";
//   else one's place in the queue and why, raising and lowering one's hand (or a direct
//   response), passing in round order, the wait after a violation and one's share of the floor.
// - responseBadge: the badge of a direct-response hand, in every queue.
// The console's floor is in floor-console.js, the projector's in floor-board.js, so a phone
// does not load them.
//
// Needs from the store: floor, floorAt (for the countdown), participants (names), you (one's
// own floor: hand, wait, share). The countdowns tick on through ui.js's startFloorClock.
// Render functions take (store, actions, options), see ui.js; with actions null there is
// nothing to press. The phone's buttons call refresh() once their command is done.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct, countdownView, personName, sendAndRefresh, showError } from '../ui.js';
import { clock, duration, myLimit, ownShare, percent, queuePlace, responsesLeft, canRespond, serverNow, timeOfDay } from '../model.js';

/** Invitations this phone put aside ("not now"): by their time. Kept on this phone only, so
 * ignoring an invitation is seen by nobody. */
const putAside = new Set();

/** The badge of a direct-response hand. */
export function responseBadge() {
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
    !mine && act ? timeUp(store) : null,
    !mine && act ? invitationCard(store, actions) : null,
    !mine && act ? placeText(place, floor) : null,
    !mine && act && floor.settings.order !== 'round' ? limitLine(floor, yours, place) : null,
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

/** Whether this person has an open invitation to speak on screen (not put aside, no hand up). */
export function invitationShown(store) {
  const invitation = store.you?.floor?.invitation;
  return Boolean(invitation && !putAside.has(invitation.at) && !store.you?.floor?.hand);
}

/** A gentle, private invitation to speak: one tap raises the hand; "not now" only hides it. */
function invitationCard(store, actions) {
  if (!invitationShown(store)) return null;
  const invitation = store.you.floor.invitation;
  return h('div', { class: 'invitation', id: 'invitation', role: 'region', 'aria-labelledby': 'invitation-title', 'data-by': invitation.by },
    h('p', { class: 'invitation-title', id: 'invitation-title' }, t('invitationTitle')),
    h('p', {}, t(invitation.by === 'facilitator' ? 'invitationByFacilitator' : 'invitationByRoom')),
    h('p', { class: 'hint' }, t('invitationPrivate')),
    h('div', { class: 'hand-buttons' },
      h('button', {
        type: 'button', class: 'primary big-button', id: 'take-invitation', 'data-key': 'take-invitation',
        onclick: () => sendAndRefresh(actions, { type: 'raise_hand', kind: 'hand' }, t('handRaised')),
      }, t('takeInvitation')),
      h('button', {
        type: 'button', class: 'secondary big-button', id: 'not-now', 'data-key': 'not-now',
        onclick: () => { putAside.add(invitation.at); actions.refresh(); },
      }, t('notNow'))));
}

/** How long one's next turn is, and why, before the turn. */
function limitLine(floor, yours, place) {
  const limit = myLimit(floor, yours, place);
  // Said when it matters: with one's hand up, or when one's turn would be shorter.
  if (!limit.ms || (limit.why === 'full' && yours.hand !== 'hand')) return null;
  const text = limit.why === 'full'
    ? t('nextTurnFull', { time: clock(limit.ms / 1000) })
    : t(`nextTurn.${limit.why}`, { time: clock(limit.ms / 1000), full: clock(limit.full / 1000) });
  return h('p', { class: limit.why === 'full' ? 'next-limit' : 'next-limit shorter', id: 'next-limit', 'data-limit-ms': limit.ms, 'data-why': limit.why }, text);
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
  // A hand raised or lowered that has not reached the server yet: said so, in place of the
  // buttons (one tap is enough; it goes out once the phone is back).
  const waiting = (actions.pending?.() || []).filter((e) => e.cmd.type === 'raise_hand' || e.cmd.type === 'lower_hand').at(-1);
  if (waiting) {
    return h('p', { class: 'pending-note', id: 'hand-pending', 'data-cmd': waiting.cmd.type },
      waiting.cmd.type === 'lower_hand' ? t('pendingLower') : t('pendingRaise'));
  }
  // One's own hand comes from one's own data: the queue may not list it (far down the line,
  // or waiting after a report).
  const hand = yours.hand || null;
  // In phase 0 the work is getting ready: the hand is there, but not the big main action.
  const size = store.session?.phase === 0 ? '' : ' big-button';
  const button = (id, className, text, onclick, attrs) => h('button', { type: 'button', class: `${store.session?.phase === 0 ? 'secondary' : className}${size}`, id, 'data-key': id, ...attrs, onclick }, text);
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

/** How long one spoke in how many turns, and (when others spoke too) one's share. */
function shareLine(floor, yours) {
  const share = ownShare(floor, yours);
  let text;
  if (share.turns === 0) text = t('shareNone');
  else {
    const spoke = t(share.turns === 1 ? 'shareOneTurn' : 'shareTurns', { time: duration(share.ms), n: share.turns });
    const of = share.fraction === null || share.ms === 0 ? ''
      : share.fraction >= 1 ? t('shareOnlyYou') : t('shareOfAll', { pct: percent(share.fraction) });
    text = of ? `${spoke} ${of}` : spoke;
  }
  return h('p', { class: 'share', id: 'my-share', 'data-floor-ms': share.ms }, text);
}

/** After a hard stop: "your time is up", until one raises a hand again or speaks again. */
function timeUp(store) {
  const yours = store.you?.floor || {};
  const last = yours.last_turn;
  if (!last || last.how !== 'limit' || yours.hand) return null;
  return h('p', { class: 'time-up', id: 'time-up', 'data-turn': last.turn }, t('timeUp', { time: duration(last.used_ms) }));
}

