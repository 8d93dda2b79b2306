// Questions the screens ask of the store that conn.js keeps. Pure functions, no DOM.

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
