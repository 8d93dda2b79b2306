// Questions the screens ask of the store that conn.js keeps. Pure functions, no DOM.

/** Whether the session has ended: from then on everything is read-only. */
export function isEnded(store) {
  return store.session?.status === 'ended';
}

/** Cards on the board for a phase: visible ones, in order of creation. */
export function visibleCards(store, phase) {
  return [...store.cards.values()].filter((c) => c.status === 'visible' && c.phase === phase);
}

/** The open round, if any (only one is open at a time). */
export function openRound(store) {
  return [...store.rounds.values()].find((r) => r.status === 'open') || null;
}

/** The last closed round of a phase, if any. */
export function lastClosedRound(store, phase) {
  const closed = [...store.rounds.values()].filter((r) => r.status === 'closed' && r.phase === phase);
  return closed.at(-1) || null;
}

/** Participants with the role participant (not the facilitator). */
export function participants(store) {
  return [...store.participants.values()].filter((p) => p.role === 'participant');
}

/** Whether this client wrote the card. */
export function isOwnCard(store, cardId) {
  return Boolean(store.you?.cards?.includes(cardId));
}

/** The author's display name, or null when unknown or anonymous. */
export function authorName(store, card) {
  return card.author ? store.participants.get(card.author)?.name ?? null : null;
}

/**
 * This client's votes in a round, counting commands still on their way, so a quick second tap
 * already sees the first one: { perCard: Map(card → n), remaining }.
 */
export function myVotes(store, round, pending) {
  const own = store.you?.votes?.find((v) => v.round === round.id);
  const perCard = new Map(Object.entries(own?.cards || {}));
  let remaining = own ? own.remaining : round.budget;
  for (const { cmd } of pending) {
    if (cmd.round !== round.id) continue;
    if (cmd.type === 'vote') {
      perCard.set(cmd.card, (perCard.get(cmd.card) || 0) + 1);
      remaining -= 1;
    } else if (cmd.type === 'unvote') {
      perCard.set(cmd.card, Math.max(0, (perCard.get(cmd.card) || 0) - 1));
      remaining += 1;
    }
  }
  return { perCard, remaining: Math.max(0, remaining) };
}

/** The round's total for a card, when the round carries results. */
export function totalFor(round, cardId) {
  return round.results?.find((r) => r.card === cardId)?.votes ?? 0;
}

/** The card kind that fits a phase best, as the default of the add-card form. */
export function kindForPhase(phase) {
  return ['problem', 'problem', 'idea', 'condition', 'experiment', 'lesson'][phase] || 'note';
}

export const PHASES = [0, 1, 2, 3, 4, 5];
export const PERSPECTIVES = ['client', 'naaste', 'medewerker', 'teamleider', 'manager', 'bestuurder', 'anders'];
export const CARD_KINDS = ['problem', 'question', 'idea', 'condition', 'experiment', 'lesson', 'note'];
export const NAME_MAX = 40;
export const CARD_MAX = 500;
export const TITLE_MAX = 120;
export const PROBLEM_MAX = 2000;
export const BUDGET_MAX = 50;

/** Length in Unicode characters, as the server counts. */
export function charCount(text) {
  return [...text].length;
}

/** A text cut to 60 characters, for a drop-down list. */
export function shorten(text) {
  const chars = [...text];
  return chars.length > 60 ? `${chars.slice(0, 57).join('')}…` : text;
}

// --- the floor and the ground rules -------------------------------------------------------------

/** Limits of the floor and the ground rules, as the server checks them (protocol floor_limits). */
export const TURN_SECS = { min: 5, max: 1800 };
export const RESPONSE_SECS = { min: 5, max: 300 };
export const FAIR_SHARE = { min: 1, max: 10 };
export const RESPONSE_CAP = { min: 0, max: 20 };
export const HAND_WAIT_MINUTES = { min: 1, max: 60 };
export const RULE_MAX = 200;
export const NOTE_MAX = 280;
export const QUEUE_ORDERS = ['least_spoken', 'fcfs', 'round'];
/** Seconds before the end of a turn when the speaker's phone vibrates. */
export const NEAR_END_MS = 15000;

/**
 * Where a participant stands in the queue: { place (1 = next), entry }, or null when they are
 * not in it.
 */
export function queuePlace(floor, participantId) {
  const queue = floor?.queue || [];
  const index = queue.findIndex((entry) => entry.participant === participantId);
  return index < 0 ? null : { place: index + 1, entry: queue[index] };
}

/**
 * Milliseconds left in the running turn at `now` (performance.now()), counted on from the
 * moment the floor arrived (`arrivedAt`). Frozen while the floor is paused. Negative once past
 * the limit (overtime in soft mode). Null when nobody has the floor.
 */
export function turnRemaining(floor, arrivedAt, now) {
  const turn = floor?.turn;
  if (!turn) return null;
  const running = floor.paused ? 0 : Math.max(0, now - arrivedAt);
  return turn.limit_ms - (turn.elapsed_ms + running);
}

/** The turn's floor time used so far at `now`, in ms (for the facilitator's overview). */
export function turnElapsed(floor, arrivedAt, now) {
  const turn = floor?.turn;
  if (!turn) return null;
  return turn.elapsed_ms + (floor.paused ? 0 : Math.max(0, now - arrivedAt));
}

/**
 * A countdown as the screens show it: { text: "1:05", over: false }, or past the limit
 * { text: "+0:12", over: true }. Seconds left are rounded up, so "0:00" means the time is up.
 */
export function countdown(remainingMs) {
  if (remainingMs === null || remainingMs === undefined) return { text: '', over: false };
  if (remainingMs >= 0) return { text: clock(Math.ceil(remainingMs / 1000)), over: false };
  return { text: `+${clock(Math.floor(-remainingMs / 1000))}`, over: true };
}

/** Whole seconds as "m:ss". */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A duration in ms as "mm:ss" (floor time in tables), rounded down to the second. */
export function duration(ms) {
  const s = Math.max(0, Math.floor((ms || 0) / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * This person's share of the floor: { ms, turns, fraction (0–1, or null before anyone
 * finished a turn), minutes (rounded) }.
 */
export function ownShare(floor, yourFloor) {
  const ms = yourFloor?.floor_ms || 0;
  const total = floor?.spoken_ms || 0;
  return {
    ms,
    turns: yourFloor?.turns || 0,
    fraction: total > 0 ? Math.min(1, ms / total) : null,
    minutes: Math.round(ms / 60000),
  };
}

/** A fraction (0–1) as a whole percentage. */
export function percent(fraction) {
  return Math.round((fraction || 0) * 100);
}

/** Direct responses this person may still give in this phase. */
export function responsesLeft(floor, yourFloor) {
  const cap = floor?.settings?.response_cap ?? 0;
  return Math.max(0, cap - (yourFloor?.responses_used || 0));
}

/**
 * Whether a direct-response hand makes sense now: someone else has the floor. (Whether any
 * are left is `responsesLeft`.)
 */
export function canRespond(floor, participantId) {
  return Boolean(floor?.turn && floor.turn.speaker !== participantId);
}

/** The balance figure (1 − Gini, 0–1) in words: 'even', 'fair' or 'uneven'; null when absent. */
export function balanceWord(figure) {
  if (figure === null || figure === undefined) return null;
  if (figure >= 0.8) return 'even';
  if (figure >= 0.6) return 'fair';
  return 'uneven';
}

/** A ground rule by id, or null (a rule taken out is no longer in the list). */
export function ruleById(rules, id) {
  return rules?.rules?.find((r) => r.id === id) || null;
}

/** Whether this person still has to answer the current ground rules. */
export function mustAnswerRules(rules, yourFloor) {
  return Boolean(rules?.rules?.length) && (yourFloor?.agreed === undefined || yourFloor?.agreed === null);
}

/** A key for a warning, to remember on the device that its banner was closed. */
export function warningKey(warning) {
  return `${warning.rule}@${warning.at}`;
}

/** Reports by status: open ones first (oldest first), then decided ones (newest first). */
export function sortedReports(reports) {
  const list = [...reports.values()];
  const open = list.filter((r) => r.status === 'open').sort((a, b) => a.at - b.at);
  const decided = list.filter((r) => r.status !== 'open').sort((a, b) => (b.resolved_at || b.at) - (a.resolved_at || a.at));
  return [...open, ...decided];
}

/**
 * The server's time now, in ms: the floor says what time it was on the server when it was
 * made (`floor.now`), and this counts on from when it arrived. So server times such as
 * `hand_wait_until` are compared without the phone's own clock error.
 */
export function serverNow(floor, arrivedAt, now) {
  if (!floor?.now) return Date.now();
  return floor.now + Math.max(0, now - arrivedAt);
}

/** A local time "14:05" from a server time in ms (shown as the phone's clock would show it). */
export function timeOfDay(millis) {
  const d = new Date(millis);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}
