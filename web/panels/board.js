// Board panel: the room as the big screen shows it, read-only: who has the floor with a big
// countdown and who comes next, the current phase, the readiness counts while a check is
// open, an open reflection, who is at the table and the success criteria when the
// facilitator shows them, the experiments in phases 4 and 5 and the lessons in phase 5, the
// cards in large type (the previous phase's top cards first), voting progress without totals
// (unless the round is live), and the ranked result after closing.
//
// - renderRoomBoard (projector, a replay link's replay): all of it, for the store now or at a
//   past moment.
//
// Needs from the store: what each of the panels below needs. Nothing to press: actions are
// not used.

import { h } from '../dom.js';
import { phaseBlock } from '../ui.js';
import { renderBigCards } from './cards.js';
import { renderRoundBoard } from './voting.js';
import { renderFloorBoard } from './floor-board.js';
import { renderReadinessBoard } from './readiness.js';
import { renderReflectionBoard } from './reflection.js';
import { renderTableBoard } from './table.js';
import { renderCriteriaBoard } from './criteria.js';
import { renderExperimentsBoard } from './experiments.js';
import { renderLessons } from './lessons.js';

export function renderRoomBoard(store) {
  const phase = store.session.phase;
  return [
    renderFloorBoard(store),
    phaseBlock(phase),
    renderReadinessBoard(store),
    renderReflectionBoard(store),
    renderRoundBoard(store),
    h('div', { class: 'board-pair' }, renderTableBoard(store), renderCriteriaBoard(store)),
    renderExperimentsBoard(store),
    phase === 5 ? renderLessons(store, null, { big: true }) : null,
    renderBigCards(store, null, { skipKinds: phase === 5 ? ['lesson'] : [] }),
  ];
}
