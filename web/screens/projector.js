// Projector (/p/CODE#token; the big screen, read-only). Three faces:
//
// - the lobby, before the work starts (phase 0 with nothing on the board yet): a large QR
//   code, the link and the code, the title and problem, how many joined and from which
//   perspectives;
// - the board (web/panels/board.js): who has the floor with a big countdown and who comes
//   next, the phase, the readiness counts, reflection, table and criteria when shown, the
//   experiments and lessons, the cards in large type, voting progress without totals (unless
//   live) and the result as bars; beside it the way in (QR and code) while the session is
//   open, "locked" once it is, and how many joined. The board always fits the screen: a
//   projector cannot scroll. Too much for the screen is first scaled down (to READABLE), then
//   the cards page through by themselves, one screenful every PAGE_MS, "page 1 of 3" shown;
// - the closing screen, once ended: the outcome (each phase's last vote as bars) and counts.
//
// Nothing here can be pressed. A replay link's replay shows the same board at each past moment.

import { h, replace } from '../dom.js';
import { t, suggest } from '../i18n.js';
import { forgetToken, takeTokenFromFragment } from '../api.js';
import { connect } from '../conn.js';
import { errorText, showConnection, setTitle, startFloorClock, showStopped, showConnecting } from '../ui.js';
import { openRound, visibleCards, latestCheck, openOne } from '../model.js';
import { renderJoin } from '../panels/session.js';
import { renderRoomBoard, renderLobby, renderClosing, joinedCount, lockedNotice } from '../panels/board.js';

export const NAME = 'projector';

/** The smallest scale the board may shrink to before its cards page instead. */
const READABLE = 0.7;
/** The smallest it may shrink to when even one card does not fit beside the rest. */
const SMALLEST = 0.5;
/** How long one page of cards stays on the screen. */
const PAGE_MS = 12000;

export function start(main, { code }) {
  const token = takeTokenFromFragment('projector', code);
  if (!token) {
    const render = () => showStopped(main, t('noProjectorToken'));
    render();
    return { render };
  }

  const conn = connect({ code, kind: 'projector' });
  let final = null;
  // Paging: the pages of cards (lists of card ids), the one shown, and its timer.
  const paging = { pages: [], shown: 0, timer: null };
  window.__tafel = { ...conn.testHooks(), nextPage: () => turnPage() };
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
  window.addEventListener('resize', () => render());

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
    document.documentElement.classList.add('fit-screen');
    if (session.status === 'ended') {
      stopPaging();
      replace(main, renderClosing(s));
      fit(main.querySelector('#closing'), null);
      return;
    }
    if (isLobby(s)) {
      stopPaging();
      replace(main, renderLobby(s, renderJoin(s, null, { large: true })));
      fit(main.querySelector('#lobby'), null);
      return;
    }
    const board = h('div', { class: 'projector-main', id: 'projector-main' }, renderRoomBoard(s));
    const pager = h('p', { class: 'pager', id: 'pager', hidden: true });
    replace(main,
      h('div', { class: 'projector', id: 'projector', 'data-status': session.status },
        h('div', { class: 'projector-head' },
          h('h1', {}, session.title),
          session.status === 'locked' ? h('p', { class: 'status-badge', id: 'status-badge' }, t('statusLockedShort')) : null),
        board,
        h('aside', { class: 'projector-side', 'aria-label': t('inviteHeading') },
          session.status === 'open' ? renderJoin(s, null, {}) : lockedNotice(),
          joinedCount(s)),
        pager));
    fit(board, pager);
  }

  /** Before the work starts: phase 0 and nothing on the board yet but the phase itself (no
   * cards, no floor, no check, nothing the facilitator shows). */
  function isLobby(s) {
    if (s.session.phase !== 0 || visibleCards(s, 0).length || openRound(s) || latestCheck(s) || openOne(s, 'reflections')) return false;
    return renderRoomBoard(s).every((part) => !part || part.classList.contains('phase') || part.classList.contains('board')
      || (part.classList.contains('board-pair') && !part.children.length));
  }

  /**
   * Makes the board fit its box: scaled down while it overflows, to READABLE at most; then the
   * cards split into pages that fit, turned every PAGE_MS.
   */
  function fit(box, pager) {
    if (!box) return;
    // Measured by the boxes themselves (a zoomed part's scroll size is not to be trusted).
    const overflows = () => {
      const edge = box.getBoundingClientRect();
      return [...box.querySelectorAll(':scope > *, :scope > * > *, #cards > [data-card]')].some((el) => {
        if (el.hidden || !el.getClientRects().length) return false;
        const r = el.getBoundingClientRect();
        return r.bottom > edge.bottom + 0.5 || r.right > edge.right + 0.5;
      });
    };
    let scale = 1;
    box.style.setProperty('--fit', '1');
    const inner = box.firstElementChild ? [...box.children] : [];
    const zoom = (z) => inner.forEach((el) => { el.style.zoom = String(z); });
    zoom(1);
    while (overflows() && scale > READABLE) {
      scale = Math.max(READABLE, Math.round((scale - 0.05) * 100) / 100);
      zoom(scale);
    }
    box.dataset.scale = String(scale);
    const cards = [...box.querySelectorAll('#cards > [data-card]')];
    const ids = cards.map((c) => c.dataset.card);
    if (!overflows() || !pager || cards.length < 2) {
      stopPaging();
      return;
    }
    // Greedy pages: as many cards as fit, in order, with the pager's line taken from the box.
    // A card too big for a page of its own (the rest of the board is large) shrinks the board
    // further, down to SMALLEST.
    pager.hidden = false;
    pager.textContent = t('pageOf', { n: 1, m: 2 });
    // Pages: { cards (ids shown), result (whether a vote's result shows too) }. When not even
    // one card fits under a result, the result gets a page of its own; only the cards shrink
    // further, so the floor and a result stay readable.
    const resultPart = box.querySelector(':scope > .round-panel.result');
    let { list, tooBig } = paginate(cards, overflows);
    let pages = list.map((ids) => ({ cards: ids, result: true }));
    if (tooBig && resultPart) {
      resultPart.hidden = true;
      ({ list, tooBig } = paginate(cards, overflows));
      pages = [{ cards: [], result: true }, ...list.map((ids) => ({ cards: ids, result: false }))];
    }
    let cardScale = scale;
    const cardsPart = box.querySelector(':scope > .board');
    while (tooBig && cardScale > SMALLEST && cardsPart) {
      cardScale = Math.max(SMALLEST, Math.round((cardScale - 0.05) * 100) / 100);
      cardsPart.style.zoom = String(cardScale);
      ({ list, tooBig } = paginate(cards, overflows));
      const withResult = !resultPart || !resultPart.hidden;
      pages = [...(withResult ? [] : [{ cards: [], result: true }]), ...list.map((ids) => ({ cards: ids, result: withResult }))];
    }
    box.dataset.cardScale = String(cardScale);
    const same = JSON.stringify(pages) === JSON.stringify(paging.pages);
    paging.pages = pages;
    if (!same) paging.shown = Math.min(paging.shown, pages.length - 1);
    showPage(box, pager, ids);
    if (!paging.timer) paging.timer = setInterval(() => turnPage(), PAGE_MS);
  }

  /** Splits the cards into pages that fit; whether some card alone does not fit. */
  function paginate(cards, overflows) {
    const list = [];
    let page = [];
    let tooBig = false;
    cards.forEach((c) => { c.hidden = true; });
    for (const card of cards) {
      card.hidden = false;
      if (overflows()) {
        if (page.length) {
          list.push(page.map((c) => c.dataset.card));
          page.forEach((c) => { c.hidden = true; });
          page = [];
        }
        if (overflows()) tooBig = true;
      }
      page.push(card);
    }
    if (page.length) list.push(page.map((c) => c.dataset.card));
    return { list, tooBig };
  }

  function showPage(box, pager, ids) {
    const shown = paging.pages[paging.shown] || { cards: [], result: true };
    const page = new Set(shown.cards);
    for (const id of ids) {
      const el = box.querySelector(`#cards > [data-card="${CSS.escape(id)}"]`);
      if (el) el.hidden = !page.has(id);
    }
    const resultPart = box.querySelector(':scope > .round-panel.result');
    if (resultPart) resultPart.hidden = !shown.result;
    const cardsPart = box.querySelector(':scope > .board');
    if (cardsPart) cardsPart.hidden = shown.cards.length === 0;
    box.dataset.page = String(paging.shown + 1);
    box.dataset.pages = String(paging.pages.length);
    pager.hidden = false;
    pager.textContent = t('pageOf', { n: paging.shown + 1, m: paging.pages.length });
  }

  function turnPage() {
    if (paging.pages.length < 2) return;
    paging.shown = (paging.shown + 1) % paging.pages.length;
    const box = document.getElementById('projector-main');
    const pager = document.getElementById('pager');
    if (!box || !pager) return;
    showPage(box, pager, [...box.querySelectorAll('#cards > [data-card]')].map((c) => c.dataset.card));
  }

  function stopPaging() {
    clearInterval(paging.timer);
    paging.timer = null;
    paging.pages = [];
    paging.shown = 0;
  }

  render();
  return { render };
}
