// Projector (/p/CODE#token; the big screen, read-only): the code and QR while people join, who
// has the floor with a big countdown and who comes next, the balance figure when the
// facilitator shows it, the current phase, the readiness counts while a check is open, an open
// reflection, who is at the table and the success criteria when the facilitator shows them,
// the experiments in phases 4 and 5 and the lessons in phase 5, the cards in large type (the
// previous phase's top cards first), voting progress without totals (unless the round is
// live), and the ranked result after closing.
//
// The board is one panel (web/panels/board.js), shown without actions: nothing here can be
// pressed. A replay link's replay shows the same board at each past moment.

import { h, replace } from '../dom.js';
import { t, suggest } from '../i18n.js';
import { forgetToken, takeTokenFromFragment } from '../api.js';
import { connect } from '../conn.js';
import { errorText, showConnection, setTitle, startFloorClock, showStopped, showConnecting } from '../ui.js';
import { participants } from '../model.js';
import { renderJoin } from '../panels/session.js';
import { renderRoomBoard } from '../panels/board.js';

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
        h('div', { class: 'projector-main' }, renderRoomBoard(s)),
        session.status === 'open' ? renderJoin(s, null, { large }) : null));
  }

  render();
  return { render };
}
