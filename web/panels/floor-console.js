// Floor panel, the console's side: running the floor.
//
// - renderFloorConsole: the speaker with the countdown, giving the floor to the next, ending
//   the turn, pausing; the queue with giving the floor to anyone in it and lowering hands.
// - renderGiveAny: a form to give the floor to someone without a hand up.
//
// Needs from the store: floor, floorAt (for the countdown), participants (names), session
// (status). Render functions take (store, actions, options), see ui.js; with actions null
// there is nothing to press.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct, countdownView, field, personName } from '../ui.js';
import { clock, participants, percent, timeOfDay } from '../model.js';
import { responseBadge } from './floor.js';

/** The floor as the facilitator runs it: the speaker, the buttons, the queue. */
export function renderFloorConsole(store, actions) {
  const floor = store.floor;
  if (!floor) return null;
  const turn = floor.turn;
  const act = canAct(store, actions);
  // "Next" passes over hands on hold and hands making room for the quiet.
  const next = floor.queue.find((e) => e.reason !== 'on_hold' && e.reason !== 'making_room');
  const waiting = !next && floor.queue.find((e) => e.reason === 'making_room');
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
    act && waiting ? h('p', { class: 'hint', id: 'give-next-hint' }, t('nextWaits', { name: personName(store, waiting.participant), time: timeOfDay(waiting.ready_at) })) : null,
    act ? nudge(store, actions) : null,
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
        entry.raised_at ? h('span', { class: 'queue-time' }, t('raisedAt', { time: timeOfDay(entry.raised_at) })) : null,
        entry.limit_ms < store.floor.settings.turn_secs * 1000 && entry.hand === 'hand'
          ? h('span', { class: 'queue-limit' }, t('queueLimit', { time: clock(entry.limit_ms / 1000) })) : null)),
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
 * The facilitator's nudge: whom to invite (with why, one tap sends a private invitation) and
 * the latest invitations with whether they were taken. Only the facilitator's floor has these.
 */
function nudge(store, actions) {
  const floor = store.floor;
  const suggestions = floor.suggestions || [];
  const invitations = floor.invitations || [];
  if (!suggestions.length && !invitations.length) return null;
  const why = (s) => t(`suggest.${s.reason}`, {
    pct: percent(s.share),
    perspective: t(`perspective.${store.participants.get(s.participant)?.perspective ?? 'anders'}`),
  });
  return h('div', { class: 'nudge', id: 'nudge' },
    suggestions.length ? h('h3', { id: 'suggest-heading' }, t('suggestHeading')) : null,
    suggestions.length ? h('ul', { class: 'suggestions', id: 'suggestions', 'aria-labelledby': 'suggest-heading' }, suggestions.map((s) => {
      const nameId = `suggest-name-${s.participant}`;
      return h('li', { class: 'suggestion', 'data-participant': s.participant, 'data-reason': s.reason },
        h('div', { class: 'queue-who' },
          h('span', { class: 'person-name', id: nameId }, personName(store, s.participant)),
          h('span', { class: 'queue-meta' }, why(s))),
        h('button', {
          type: 'button', class: 'secondary small', 'data-key': `invite-${s.participant}`, 'aria-describedby': nameId,
          onclick: () => actions.send({ type: 'invite', participant: s.participant }, t('invited')),
        }, t('inviteButton')));
    })) : null,
    invitations.length ? h('details', { class: 'invitations', id: 'invitations' },
      h('summary', {}, t('invitationsHeading', { taken: invitations.filter((i) => i.status === 'taken').length, n: invitations.length })),
      h('p', { class: 'hint' }, t('invitationsPrivate')),
      h('ul', {}, [...invitations].reverse().map((i) => h('li', { 'data-participant': i.participant, 'data-status': i.status },
        `${personName(store, i.participant)} · ${timeOfDay(i.at)} · ${t(`invitedBy.${i.by}`)} · `,
        h('strong', { class: `invitation-status status-${i.status}` }, t(`invitationStatus.${i.status}`)))))) : null);
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
