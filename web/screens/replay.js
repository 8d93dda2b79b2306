// Replay (/r/CODE, a replay link's token after # the first time; the facilitator's own token
// when this device has it): step through the session and see, at every moment, the board as
// it was. The timeline with its marks, a slider, steps by change, turn and phase, and playing
// at 1×, 4× and 16× (long silences shortened); the board of that moment drawn by the same
// panels as live, read-only: what the big screen showed or could have shown (a replay link),
// or the facilitator's console (the facilitator); and who spoke when. `?at=<ms>` opens a
// moment, and the address follows the moment shown, so it can be copied.
//
// Each moment comes from the server (GET …/replay/{n}) and becomes a store as a welcome does
// (conn.js viewStore); moments already seen are kept, the next one is fetched while the
// current one plays, and while scrubbing only the newest wish is fetched.

import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { getToken } from '../api.js';
import { viewStore } from '../conn.js';
import { announce, homeLink, setTitle, showError, showStopped } from '../ui.js';
import { all, isEnded } from '../model.js';
import { reader, readHistory, getTimeline, getMoment, historyHead, historyErrorText, showLoading } from '../history.js';
import { renderTimeline, showPosition, changeAt, stepTarget, playWait, clockTime } from '../panels/timeline.js';
import { renderSpeakers, showSpeakersAt } from '../panels/speakers.js';
import { renderRoomBoard } from '../panels/board.js';
import { cardView, earlierPhases } from '../panels/cards.js';
import { rulesList } from '../panels/rules.js';
import { renderRulesTally } from '../panels/rules-console.js';
import { renderFloorConsole } from '../panels/floor-console.js';
import { renderRoundStatus } from '../panels/voting-console.js';
import { renderBalance } from '../panels/balance.js';
import { renderReports } from '../panels/reports-console.js';
import { renderParticipants } from '../panels/participants.js';
import { renderAllCards } from '../panels/cards-console.js';
import { renderReadinessConsole } from '../panels/readiness-console.js';
import { renderTableConsole } from '../panels/table-console.js';
import { renderCriteriaConsole } from '../panels/criteria-console.js';
import { renderExperiments } from '../panels/experiments.js';
import { renderReflectionConsole } from '../panels/reflection-console.js';
import { renderLessons } from '../panels/lessons.js';
import { renderPhases } from '../panels/session.js';

export const NAME = 'replay';

/** Moments kept in memory (a moment is a whole view). */
const KEPT = 300;

export function start(main, { code }) {
  const who = reader(code);
  if (!who) {
    const render = () => showStopped(main, t('noReplayToken'),
      getToken('participant', code) ? h('a', { class: 'button', href: `/r/${encodeURIComponent(code)}?report` }, t('toReport')) : homeLink());
    render();
    return { render };
  }

  let timeline = null;
  let failed = null;
  const state = { n: 1, speed: 1, playing: false };
  const moments = new Map(); // n → the ReplayMoment, as a promise (kept, or on its way)
  let shown = null; // the moment on the screen
  let wanted = 1; // the change asked for last
  let fetching = false;
  let timer = null;
  let say = false; // tell screen-reader users where they are once the moment is shown
  let regions = null;

  // What the timeline may do.
  const actions = {
    go: (n, { fromSlider = false } = {}) => go(n, { fromSlider }),
    step: (what, dir) => {
      const to = stepTarget(timeline, state.n, what, dir);
      if (to !== null) go(to, { say: !state.playing });
    },
    play,
    pause,
    speed: (s) => {
      state.speed = s;
      moved();
      if (state.playing) schedule();
    },
  };

  async function load() {
    const { value, error } = await readHistory(code, who, getTimeline);
    if (error) {
      failed = error;
      render();
      return;
    }
    timeline = value;
    const at = Number(new URLSearchParams(location.search).get('at'));
    state.n = Number.isFinite(at) && at > 0 ? changeAt(timeline.times, at) : 1;
    render();
    want(state.n);
  }

  // --- moving ----------------------------------------------------------------------------------

  function go(n, { fromSlider = false, say: tell = false } = {}) {
    state.n = Math.max(1, Math.min(timeline.times.length, n));
    say = tell;
    moved({ fromSlider });
    want(state.n);
  }

  /** The panels follow the change asked for at once; the board once its moment arrived. */
  function moved({ fromSlider = false } = {}) {
    if (!regions) return;
    showPosition(regions.timeline, timeline, state, { fromSlider });
    showSpeakersAt(regions.speakers, timeline, state.n);
  }

  function want(n) {
    wanted = n;
    fetchWanted();
  }

  /** Fetches the change asked for last (one request at a time), and shows it. */
  async function fetchWanted() {
    if (fetching) return;
    fetching = true;
    while (shown?.seq !== wanted) {
      const n = wanted;
      let moment;
      try {
        moment = await momentOf(n);
      } catch (err) {
        showError(historyErrorText(err, { kind: who.kind }));
        pause();
        break;
      }
      if (wanted === n) show(moment);
    }
    fetching = false;
    if (state.playing) schedule();
  }

  /** Moment n: kept, on its way, or asked for now (one that did not come is asked again). */
  function momentOf(n) {
    if (!moments.has(n)) {
      const moment = getMoment(code, who.token, n);
      moments.set(n, moment);
      moment.catch(() => moments.delete(n));
      if (moments.size > KEPT) moments.delete(moments.keys().next().value);
    }
    return moments.get(n);
  }

  function show(moment) {
    shown = moment;
    if (!regions) return;
    const store = viewStore(timeline.role, moment.view, { seq: moment.seq, past: true });
    replace(regions.board, timeline.role === 'facilitator' ? consoleBoard(store) : roomBoard(store));
    regions.board.dataset.seq = String(moment.seq);
    regions.board.dataset.at = String(moment.at);
    // The address says where one is, so it can be copied (a new moment replaces it in the
    // browser's history, not one entry per change).
    history.replaceState(null, '', `${location.pathname}?at=${moment.at}`);
    if (say) {
      say = false;
      announce(t('atMoment', { time: clockTime(moment.at), n: moment.seq, m: timeline.times.length, phase: moment.view.session.phase }));
    }
  }

  // --- playing ---------------------------------------------------------------------------------

  function play() {
    state.playing = true;
    if (state.n >= timeline.times.length) go(1);
    moved();
    schedule();
  }

  function pause() {
    state.playing = false;
    clearTimeout(timer);
    moved();
  }

  /** Once the moment on the screen is the one asked for, waits as long as the session did
   * before the next change (a long silence as a short pause), then goes there. */
  function schedule() {
    clearTimeout(timer);
    if (!state.playing || fetching || shown?.seq !== state.n) return;
    if (state.n >= timeline.times.length) {
      pause();
      announce(t('replayAtEnd'));
      return;
    }
    // Ask for the next one now, to have it when its time comes.
    momentOf(state.n + 1).catch(() => {});
    timer = setTimeout(() => go(state.n + 1), playWait(timeline.times, state.n, state.speed));
  }

  // --- the board of a moment -------------------------------------------------------------------

  /** What the big screen showed (or could have shown), the rules, and the earlier phases. */
  function roomBoard(s) {
    return h('div', { class: 'replay-board room' },
      isEnded(s) ? h('p', { class: 'notice' }, t('sessionEndedNotice')) : null,
      renderRoomBoard(s),
      earlierPhases(s, (card) => cardView(card, { store: s })),
      rulesPart(s));
  }

  /** The facilitator's console as it was, read-only. */
  function consoleBoard(s) {
    const has = (part) => all(s, part).length > 0;
    return h('div', { class: 'replay-board console' },
      h('div', { class: 'console-col' },
        isEnded(s) ? h('p', { class: 'notice' }, t('sessionEndedNotice')) : null,
        renderFloorConsole(s, null),
        renderPhases(s, null),
        h('section', { class: 'panel voting', 'aria-labelledby': 'voting-heading' },
          h('h2', { id: 'voting-heading' }, t('votingHeading')),
          renderRoundStatus(s, null) || h('p', { class: 'empty' }, t('noRoundYet'))),
        renderBalance(s),
        rulesPart(s),
        s.reports.size ? renderReports(s, null) : null,
        renderParticipants(s, null, { presence: false })),
      h('div', { class: 'console-col' },
        has('checks') ? renderReadinessConsole(s, null) : null,
        has('parties') ? renderTableConsole(s, null) : null,
        has('criteria') ? renderCriteriaConsole(s, null) : null,
        has('experiments') ? renderExperiments(s, null) : null,
        has('reflections') ? renderReflectionConsole(s, null) : null,
        [...s.cards.values()].some((c) => c.kind === 'lesson') ? renderLessons(s) : null,
        renderAllCards(s, null)));
  }

  function rulesPart(s) {
    if (!s.rules?.rules?.length) return null;
    return h('section', { class: 'panel rules-panel', 'aria-labelledby': 'rules-heading' },
      h('h2', { id: 'rules-heading' }, t('rulesHeading')),
      renderRulesTally(s),
      rulesList(s.rules));
  }

  // --- putting it together ---------------------------------------------------------------------

  function render() {
    if (failed) {
      showStopped(main, historyErrorText(failed, { kind: who.kind }), homeLink());
      return;
    }
    if (!timeline) {
      regions = null;
      showLoading(main);
      return;
    }
    setTitle(`${t('replayHeading')}: ${timeline.title}`);
    regions = {
      timeline: renderTimeline(timeline, actions, state),
      board: h('div', { class: 'replay-moment', id: 'replay-moment' }),
      speakers: renderSpeakers(timeline),
    };
    replace(main,
      historyHead(timeline.title, { code, current: 'replay' }),
      regions.timeline,
      h('section', { class: 'replay-now', 'aria-labelledby': 'moment-heading' },
        h('h2', { id: 'moment-heading', class: 'moment-heading' }, timeline.role === 'facilitator' ? t('momentConsole') : t('momentBoard')),
        regions.board),
      regions.speakers);
    moved();
    if (shown) show(shown);
  }

  render();
  load();
  return { render };
}
