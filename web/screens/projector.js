// Projector (/p/CODE#token; the big screen, read-only): the code and QR while people join, who
// has the floor with a big countdown and who comes next, the balance figure when the
// facilitator shows it, the current phase, the cards in large type, voting progress without
// totals (unless the round is live), and the ranked result after closing.

import { h, replace } from '../dom.js';
import { t, suggest } from '../i18n.js';
import { qrUrl, forgetToken, takeTokenFromFragment } from '../api.js';
import { connect } from '../conn.js';
import {
  errorText, messagePage, phaseBlock, ranking, showConnection, setTitle, voteCount,
  personName, countdownView, startFloorClock, figureText, figureWords,
} from '../ui.js';
import { openRound, lastClosedRound, participants, visibleCards, totalFor } from '../model.js';

export const NAME = 'projector';

/** Below this many participants the join code stays large on the screen. */
const FEW_PEOPLE = 3;
/** How many of the queue the big screen names. */
const QUEUE_SHOWN = 4;

export function start(main, { code }) {
  const token = takeTokenFromFragment('projector', code);
  if (!token) {
    const render = () => {
      setTitle(null);
      replace(main, messagePage(t('noProjectorToken')));
    };
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

  function joinPanel(large) {
    const session = conn.store.session;
    const link = session.join_url.replace(/^https?:\/\//, '');
    return h('section', { class: large ? 'join-panel large' : 'join-panel', 'aria-label': t('inviteHeading') },
      h('img', { class: 'qr', src: qrUrl(session.code), alt: t('qrAlt'), width: large ? 320 : 120, height: large ? 320 : 120 }),
      h('div', { class: 'join-text' },
        h('p', {}, t('projectorJoin')),
        h('p', { class: 'join-url' }, link),
        h('p', {}, t('projectorCode')),
        h('p', { class: 'join-code', id: 'join-code' }, session.code),
        large ? h('p', { class: 'hint' }, t('projectorOrScan')) : null));
  }

  function roundPanel() {
    const s = conn.store;
    const round = openRound(s);
    if (round) {
      const total = participants(s).length;
      return h('section', { class: 'round-panel', 'aria-labelledby': 'round-heading' },
        h('h2', { id: 'round-heading' }, t('roundOpenHeading')),
        h('p', { class: 'progress-text', id: 'voters', 'data-voters': round.voters, 'data-of': total }, t('votersProgress', { n: round.voters, m: total })),
        h('progress', { max: Math.max(total, 1), value: round.voters, 'aria-labelledby': 'voters' }),
        round.results ? [h('h3', {}, t('liveResults')), ranking(s, round, { id: 'live-ranking' })] : null);
    }
    const closed = lastClosedRound(s, s.session.phase);
    if (!closed) return null;
    return h('section', { class: 'round-panel result', 'aria-labelledby': 'result-heading' },
      h('h2', { id: 'result-heading' }, t('resultHeading')),
      ranking(s, closed));
  }

  function floorPanel() {
    const s = conn.store;
    const floor = s.floor;
    if (!floor || s.session.status === 'ended') return null;
    const turn = floor.turn;
    const balance = floor.settings.show_balance ? floor.balance : null;
    const next = floor.queue.slice(0, QUEUE_SHOWN);
    if (!turn && !next.length && !balance && !floor.paused) return null;
    return h('section', { class: 'floor-board', id: 'floor', 'aria-labelledby': 'floor-heading' },
      h('div', { class: 'floor-now' },
        h('h2', { id: 'floor-heading', class: 'label' }, turn ? t('speakingNow') : t('floorHeading')),
        turn
          ? [h('p', { class: 'projector-speaker', id: 'projector-speaker', 'data-speaker': turn.speaker }, personName(s, turn.speaker)),
            h('p', { class: 'projector-clock' }, countdownView(s, 'projector-countdown', 'countdown-huge'))]
          : h('p', { class: 'projector-nobody' }, t('nobodySpeaks')),
        floor.paused ? h('p', { class: 'floor-paused' }, t('floorPausedShort')) : null),
      next.length ? h('div', { class: 'floor-next' },
        h('h3', { id: 'next-heading', class: 'label' }, t('nextHeading')),
        h('ol', { class: 'next-list', id: 'projector-queue', 'aria-labelledby': 'next-heading' },
          next.map((entry) => h('li', { 'data-participant': entry.participant }, personName(s, entry.participant),
            entry.hand === 'response' ? h('span', { class: 'badge response' }, t('handResponse')) : null)))) : null,
      balance ? h('div', { class: 'floor-balance', id: 'projector-balance', 'data-value': balance.figure ?? '' },
        h('h3', { class: 'label' }, t('balanceHeading')),
        h('p', { class: 'balance-line' },
          h('span', { class: 'balance-figure' }, figureText(balance.figure)),
          h('span', { class: 'balance-word' }, figureWords(balance.figure))),
        balance.people ? h('p', {}, balance.silent === 0 ? t('allSpoke') : t('silentCount', { n: balance.silent, m: balance.people })) : null) : null);
  }

  function cardsPanel() {
    const s = conn.store;
    const round = openRound(s);
    const cards = visibleCards(s, s.session.phase);
    return h('section', { class: 'board', 'aria-labelledby': 'cards-heading' },
      h('h2', { id: 'cards-heading', class: 'sr-only' }, t('cardsHeading')),
      cards.length
        ? h('ul', { class: 'cards big', id: 'cards' }, cards.map((card) => h('li', { class: 'card', 'data-card': card.id },
          h('p', { class: 'card-meta' }, h('span', { class: 'card-kind' }, t(`kind.${card.kind}`)),
            round?.results && round.cards.includes(card.id) ? h('span', { class: 'badge votes' }, voteCount(totalFor(round, card.id))) : null),
          h('p', { class: 'card-text' }, card.text ?? ''))))
        : h('p', { class: 'empty' }, t('noCards')));
  }

  function render() {
    if (final) {
      setTitle(null);
      replace(main, messagePage(final.code === 'bad_token' ? t('badLink') : errorText(final)));
      return;
    }
    const s = conn.store;
    if (!s.ready) {
      replace(main, h('p', { class: 'loading', role: 'status' }, t('connecting')));
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
          floorPanel(),
          phaseBlock(session.phase),
          roundPanel(),
          cardsPanel()),
        session.status === 'open' ? joinPanel(large) : null));
  }

  render();
  return { render };
}
