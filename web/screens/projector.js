// Projector (/p/CODE#token; the big screen, read-only): the code and QR while people join, who
// has the floor with a big countdown and who comes next, the balance figure when the
// facilitator shows it, the current phase, the readiness counts while a check is open, an open
// reflection, who is at the table and the success criteria when the facilitator shows them,
// the experiments in phases 4 and 5 and the lessons in phase 5, the cards in large type (the
// previous phase's top cards first), voting progress without totals (unless the round is
// live), and the ranked result after closing.
//
// Every part is a panel (web/panels/) shown without actions: nothing here can be pressed.

import { h, replace } from '../dom.js';
import { t, suggest } from '../i18n.js';
import { forgetToken, takeTokenFromFragment } from '../api.js';
import { connect } from '../conn.js';
import { errorText, phaseBlock, showConnection, setTitle, startFloorClock, showStopped, showConnecting } from '../ui.js';
import { participants } from '../model.js';
import { renderBigCards } from '../panels/cards.js';
import { renderRoundBoard } from '../panels/voting.js';
import { renderFloorBoard } from '../panels/floor-board.js';
import { renderJoin } from '../panels/session.js';
import { renderReadinessBoard } from '../panels/readiness.js';
import { renderReflectionBoard } from '../panels/reflection.js';
import { renderTableBoard } from '../panels/table.js';
import { renderCriteriaBoard } from '../panels/criteria.js';
import { renderExperimentsBoard } from '../panels/experiments.js';
import { renderLessons } from '../panels/lessons.js';

export const NAME = 'projector';

/** Below this many participants the join code stays large on the screen. */
const FEW_PEOPLE = 3;

export function start(main, { code }) {
  const token = takeTokenFromFragment('projector', code);
  if (!token) {
    const render = () => showStopped(main, t('noProjectorToken'));
    render();
    return { render };
  }

  const conn = connect({ code, kind: 'projector' });
  let final = null;
  window.__tafel = conn.testHooks();
  showConnection(conn);
  startFloorClock(() => conn.store);
  conn.on('change', () => {
    // The room's screen speaks the session's language, unless someone chose otherwise here.
    if (conn.store.session) suggest(conn.store.session.language);
    render();
  });
  conn.on('final', (err) => {
    if (err.code === 'bad_token') forgetToken('projector', code);
    final = err;
    render();
  });

  function render() {
    if (final) {
      showStopped(main, final.code === 'bad_token' ? t('badLink') : errorText(final));
      return;
    }
    const s = conn.store;
    if (!s.ready) {
      showConnecting(main);
      return;
    }
    const session = s.session;
    setTitle(session.title);
    const large = session.status !== 'ended' && (session.phase === 0 || participants(s).length < FEW_PEOPLE);
    replace(main,
      h('div', { class: 'projector-head' },
        h('h1', {}, session.title),
        session.status === 'ended' ? h('p', { class: 'notice' }, t('sessionEndedJoin')) : null),
      h('div', { class: large ? 'projector-body with-join' : 'projector-body' },
        h('div', { class: 'projector-main' },
          renderFloorBoard(s),
          phaseBlock(session.phase),
          renderReadinessBoard(s),
          renderReflectionBoard(s),
          renderRoundBoard(s),
          h('div', { class: 'board-pair' }, renderTableBoard(s), renderCriteriaBoard(s)),
          renderExperimentsBoard(s),
          session.phase === 5 ? renderLessons(s, null, { big: true }) : null,
          renderBigCards(s, null, { skipKinds: session.phase === 5 ? ['lesson'] : [] })),
        session.status === 'open' ? renderJoin(s, null, { large }) : null));
  }

  render();
  return { render };
}
