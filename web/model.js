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

/** The kinds of card each phase asks for, its main kind first (the add-card form lists them
 * first). */
export const PHASE_KINDS = [
  ['problem', 'question'],
  ['problem', 'question'],
  ['idea', 'example'],
  ['condition', 'idea'],
  ['experiment', 'lesson'],
  ['lesson', 'note'],
];

export const PHASES = [0, 1, 2, 3, 4, 5];
export const PERSPECTIVES = ['client', 'naaste', 'medewerker', 'teamleider', 'manager', 'bestuurder', 'anders'];
export const CARD_KINDS = ['problem', 'question', 'idea', 'example', 'condition', 'experiment', 'lesson', 'note'];
export const NAME_MAX = 40;
export const CARD_MAX = 500;
export const TITLE_MAX = 120;
export const PROBLEM_MAX = 2000;
export const BUDGET_MAX = 50;

/** Limits of what a session produces, as the server checks them (protocol method_limits). */
export const PARTY_MAX = 80;
export const MAX_PARTIES = 60;
export const CRITERION_MAX = 200;
export const UNIT_MAX = 20;
export const MAX_CRITERIA = 30;
export const EXPERIMENT_TITLE_MAX = 120;
export const EXPERIMENT_TEXT_MAX = 500;
export const OWNER_PARTY_MAX = 80;
export const MAX_OWNERS = 10;
export const MAX_EXPERIMENTS = 40;
export const REFLECTION_MAX = 280;
export const SOURCE_MAX = 200;
export const MAX_ROUNDS = 50;
/** A readiness comment, a conclusion's note and an assessment's note: NOTE_MAX (below). */

/** Length in Unicode characters, as the server counts. */
export function charCount(text) {
  return [...text].length;
}


/** Letters, digits, punctuation and symbols show something; Hangul fillers and the blank braille cell do not. */
const VISIBLE = /[\p{L}\p{N}\p{P}\p{S}]/u;
const SHOWS_NOTHING = /[\u115f\u1160\u3164\uffa0\u2800]/gu;
const DIRECTION = /[\u202a-\u202e\u2066-\u2069]/u;

/** What is wrong with a name by the server's rules (see docs/protocol.md), as an i18n key; null if nothing. */
export function nameProblem(name, max) {
  const trimmed = name.trim();
  if (!trimmed || charCount(trimmed) > max) return 'nameMissing';
  if (/\p{Cc}/u.test(trimmed)) return 'nameControl';
  if (DIRECTION.test(trimmed)) return 'nameDirection';
  if (!VISIBLE.test(trimmed.replace(SHOWS_NOTHING, ''))) return 'nameInvisible';
  return null;
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
export const MIN_TURN_SECS = { min: 1, max: 1800 };
export const ROOM_SECS = { min: 0, max: 120 };
export const FLOOR_PRESETS = ['balanced', 'fcfs'];

/**
 * How long one's next plain turn is, and why: { ms, full, why } where why is 'full',
 * 'over_share' (beyond the fair share: half) or 'far_over_share' (beyond twice: a quarter).
 * From one's own place in the queue when listed, else from the floor's share_limits and one's
 * own floor time.
 */
export function myLimit(floor, yourFloor, place) {
  const full = (floor?.settings?.turn_secs || 0) * 1000;
  const steps = floor?.share_limits || [];
  const ms = yourFloor?.floor_ms || 0;
  let step = -1;
  steps.forEach((s, i) => { if (ms > s.above_ms) step = i; });
  const why = step < 0 ? 'full' : step === 0 ? 'over_share' : 'far_over_share';
  const limit = place?.entry?.hand === 'hand' ? place.entry.limit_ms : step < 0 ? full : steps[step].limit_ms;
  return { ms: limit, full, why: limit < full ? why : 'full' };
}
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

// --- what a session produces --------------------------------------------------------------------

/** A list part of the store (a Map by id) as an array, in order; empty while the server sent
 * none (a welcome leaves out empty lists). */
export function all(store, part) {
  const map = store[part];
  return map instanceof Map ? [...map.values()] : [];
}

/** The record of a list part with a stage (checks, reflections) that is open, if any. */
export function openOne(store, part) {
  return all(store, part).find((x) => x.stage === 'open') || null;
}

/** The last readiness check, open or concluded, or null. */
export function latestCheck(store) {
  return all(store, 'checks').at(-1) || null;
}

/** One's own entry for a record in a list of `you` (readiness by check, consents by
 * criterion, reflections by reflection round), or null. */
export function yours(store, list, key, id) {
  return store.you?.[list]?.find((entry) => entry[key] === id) || null;
}

/** The three readiness questions, in order. */
export const QUESTIONS = ['urgent', 'complex', 'willing'];
export const ANSWERS = ['yes', 'not_sure', 'no'];
export const STAKES = ['needed', 'affected', 'both'];
export const ASSESSMENTS = ['met', 'partly', 'not_met'];
export const EXPERIMENT_STATUSES = ['planned', 'running', 'stopped', 'done'];
export const OUTCOMES = ['worked', 'partly', 'did_not_work'];
export const DECISIONS = ['adopt', 'adapt', 'abandon'];

/** Parties on the list (not removed), in order of proposing. */
export function listedParties(store) {
  return all(store, 'parties').filter((p) => p.status !== 'removed');
}

/** The perspectives a needed or affected party speaks for with nobody of them present now. */
export function missingPerspectives(store) {
  return store.table?.missing || [];
}

/** Criteria the group agreed to, and the others still open (proposed or asked). */
export function criteriaByStatus(store, status) {
  return all(store, 'criteria').filter((c) => c.status === status);
}

/** A card's kind is an idea that can carry conditions and become an experiment. */
export function isIdea(card) {
  return card.kind === 'idea' || card.kind === 'example';
}

/** The visible conditions that build on a card, in order. */
export function conditionsOf(store, cardId) {
  return [...store.cards.values()].filter((c) => c.kind === 'condition' && c.builds_on === cardId && c.status === 'visible');
}

/** How many visible cards (conditions left out) build on a card. */
export function buildsOnCount(store, cardId) {
  return [...store.cards.values()].filter((c) => c.builds_on === cardId && c.kind !== 'condition' && c.status === 'visible').length;
}

/** The cards a card builds on, nearest first (at most `depth`, never round in a circle). */
export function threadOf(store, card, depth = 3) {
  const thread = [];
  const seen = new Set([card.id]);
  let next = card.builds_on ? store.cards.get(card.builds_on) : null;
  while (next && thread.length < depth && !seen.has(next.id)) {
    thread.push(next);
    seen.add(next.id);
    next = next.builds_on ? store.cards.get(next.builds_on) : null;
  }
  return thread;
}

/** How many top cards of the previous phase's vote are carried into the next phase. */
export const CARRIED = 3;

/**
 * The top-voted cards carried into `phase`: from the last closed round of the previous phase,
 * the best CARRIED cards with votes that are still on the board. Returns { round, cards:
 * [{ card, votes }] }, or null. (Older phases stay in reach folded away, not on the board.)
 */
export function carriedOver(store, phase) {
  const round = [...store.rounds.values()].filter((r) => r.status === 'closed' && r.phase === phase - 1 && r.results).at(-1);
  if (!round) return null;
  const cards = round.results
    .filter((row) => row.votes > 0)
    .map((row) => ({ card: store.cards.get(row.card), votes: row.votes }))
    .filter(({ card }) => card?.status === 'visible')
    .slice(0, CARRIED);
  return cards.length ? { round, cards } : null;
}

/** Whether this client may change an experiment, as the server checks it: the facilitator,
 * an owner, or the author of its idea (who made it, unless the facilitator did). */
export function mayChangeExperiment(store, experiment) {
  if (store.role === 'facilitator') return true;
  if (store.role !== 'participant') return false;
  const me = store.you?.id;
  return experiment.owners.includes(me) || Boolean(experiment.from_card && isOwnCard(store, experiment.from_card));
}

/** What a lesson is about, as a key: 'experiment:e1', 'phase:2' or 'session'. */
export function lessonKey(lessonOf) {
  if (lessonOf?.experiment) return `experiment:${lessonOf.experiment}`;
  if (lessonOf && lessonOf.phase !== undefined) return `phase:${lessonOf.phase}`;
  return 'session';
}

/** The lesson_of of a command from a key made by lessonKey (null for the session). */
export function lessonOfKey(key) {
  const [kind, value] = (key || 'session').split(':');
  if (kind === 'experiment') return { experiment: value };
  if (kind === 'phase') return { phase: Number(value) };
  return null;
}

/** The visible lesson cards about something (a lessonKey), in order. */
export function lessonsAbout(store, key) {
  return [...store.cards.values()].filter((c) => c.kind === 'lesson' && c.status === 'visible' && lessonKey(c.lesson_of) === key);
}

/** The command that makes an idea card an experiment, titled with the card's text (cut to the
 * longest title). */
export function experimentFromCard(card) {
  const chars = [...(card.text || '')];
  const title = chars.length > EXPERIMENT_TITLE_MAX ? `${chars.slice(0, EXPERIMENT_TITLE_MAX - 1).join('')}…` : chars.join('');
  return { type: 'add_experiment', title, from_card: card.id };
}

/** Ideas that could become an experiment: visible ideas and examples not tried yet, those
 * carried over from the last vote first, then the newest phase's. */
export function ideasToTry(store) {
  const tried = new Set(all(store, 'experiments').map((e) => e.from_card).filter(Boolean));
  const carried = carriedOver(store, store.session.phase)?.cards.map((x) => x.card) || [];
  const rest = [...store.cards.values()].filter((c) => c.status === 'visible' && isIdea(c)).sort((a, b) => b.phase - a.phase);
  const seen = new Set();
  return [...carried, ...rest].filter((c) => isIdea(c) && !tried.has(c.id) && !seen.has(c.id) && seen.add(c.id));
}
