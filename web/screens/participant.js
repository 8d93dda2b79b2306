// Participant (phone, 360 px, one hand): the floor first (who speaks, one's own hand and place
// in the queue, one's own turn with its countdown), then what the room asks now (the readiness
// check, a consent round on a success criterion, a reflection), the session, the current phase
// with its work (who is at the table and the success criteria early on, experiments later),
// its cards (the previous phase's top cards carried over, earlier phases folded away),
// adding, building on and changing cards, voting with the remaining budget always in view,
// and the ground rules: agreeing to them, and reporting when one is broken. Once the session
// ended, the way to its report, when the facilitator shares it.
//
// The parts are panels (web/panels/); this screen keeps what only this phone knows (drafts,
// which card is being changed, closed warnings), puts the panels in their places, and tells
// screen-reader users (and the hand, by vibrating) what changed. The method's panels are
// loaded only once the session needs them (lazyPanels), so a phone downloads little.

import { h, replace } from '../dom.js';
import { t, suggest } from '../i18n.js';
import { forgetToken } from '../api.js';
import {
  errorText, phaseBlock, announce, showError, showConnection, setTitle, markShown,
  startFloorClock, stopFloorClock, vibrate, showAbsent, keptRegions, lazyPanels,
} from '../ui.js';
import {
  openRound, myVotes, kindForPhase, isEnded, queuePlace, mustAnswerRules, warningKey, clock, NEAR_END_MS, serverNow,
  all, openOne, criteriaByStatus, latestCheck, experimentFromCard,
} from '../model.js';
import { renderBoard } from '../panels/cards.js';
import { renderAddForm, renderEditForm } from '../panels/card-forms.js';
import { renderBudget, renderRound } from '../panels/voting.js';
import { invitationShown, renderFloor } from '../panels/floor.js';
import { renderRules, renderRulesReminder } from '../panels/rules.js';
import { renderWarnings, renderReportForm } from '../panels/reports.js';

export const NAME = 'participant';

/** The method's panels, loaded when the session first needs one. */
const METHOD_PANELS = {
  readiness: () => import('../panels/readiness.js'),
  table: () => import('../panels/table.js'),
  criteria: () => import('../panels/criteria.js'),
  experiments: () => import('../panels/experiments.js'),
  reflection: () => import('../panels/reflection.js'),
};

export function start(main, { conn, onForgotten }) {
  const draft = { text: '', kind: null, editText: '', buildsOn: null, source: '', lessonOf: null };
  // The method's drafts, and what this phone opened or is changing.
  const method = {
    check: {},
    reflection: {},
    party: { name: '', perspective: 'client', stake: 'both' },
    criterion: { text: '', target: '', unit: '' },
    experiments: { editing: null },
    experimentDrafts: new Map(),
    opened: new Set(), // the folded parts (table, criteria) this person opened
    loaded: 0, // panel modules arrived so far (the kept parts are built again when one arrives)
    focusNext: null, // a selector to move focus to once it is on the screen
  };
  const panels = lazyPanels(METHOD_PANELS, () => {
    method.loaded += 1;
    update();
  });
  // Parts with form fields are built again only when what they show changed and nobody is
  // typing in them.
  const kept = keptRegions(() => update());
  // Which own card is being changed, and which waits for "yes, withdraw" (ids, or null).
  const view = { editing: null, confirmWithdraw: null };
  let final = null;
  let shownPhase = null;
  let shownRound; // id of the open round last shown (null: none), to announce changes
  let focusedTitle = false;
  let regions = null;
  // The floor: what was last said about it (for the live region and the vibration), and the
  // report form's draft.
  const floorSeen = { turn: undefined, mine: false, place: null, nearEnd: null, warnings: null };
  const flagDraft = { open: false, rule: '', about: '', note: '', anonymous: false, error: null, busy: false };
  // The ground rules' list, folded until the person opens it.
  const rulesFold = { open: false };
  const closedWarnings = loadClosedWarnings(conn.code);

  window.__tafel = conn.testHooks();
  showConnection(conn);
  const clockTimer = startFloorClock(() => conn.store, onClockTick);

  conn.on('change', () => {
    // Speak the session's language, unless this person chose one or the phone is in English.
    if (conn.store.session) suggest(conn.store.session.language);
    update();
  });
  conn.on('error', (err) => showError(errorText(err)));
  conn.on('final', (err) => {
    if (err.code === 'bad_token') {
      stopFloorClock(clockTimer);
      conn.close();
      onForgotten();
      return;
    }
    if (err.code === 'session_not_found') forgetToken('participant', conn.code);
    final = err;
    render();
  });

  const store = () => conn.store;
  const ended = () => isEnded(store());
  const yourFloor = () => store().you?.floor || {};

  /** Sends a command; an error is shown in plain words. Resolves to the result or null. */
  async function run(cmd, doneText) {
    try {
      const result = await conn.send(cmd);
      if (doneText) announce(doneText);
      return result;
    } catch (err) {
      showError(errorText(err));
      return null;
    }
  }

  // What the panels may do (see ui.js).
  const base = { send: run, refresh: () => update(), latest: store, pending: () => conn.pending() };
  const boardActions = { ...base, edit: startEdit, buildOn, experiment: makeExperiment };
  const formActions = { ...base, stopEdit, stopBuilding };
  const experimentActions = { ...base, addLesson };
  const rulesActions = { ...base, openFlag };
  const warningActions = { closeWarning };
  const reportActions = { attempt: (cmd) => conn.send(cmd), latest: store, rebuild: renderFlag, close: closeFlag };

  // --- changing a card ---------------------------------------------------------------------

  function startEdit(card) {
    view.editing = card.id;
    view.confirmWithdraw = null;
    draft.editText = card.text || '';
    draft.editKind = card.kind;
    update();
    const textarea = document.getElementById('edit-text');
    textarea.focus();
    textarea.scrollIntoView({ block: 'center' });
  }

  function stopEdit() {
    const id = view.editing;
    view.editing = null;
    update();
    document.querySelector(`[data-key="edit-${CSS.escape(id)}"]`)?.focus();
  }

  // The form is built again only when what it shows changed (the phase, the card it builds
  // on, what a lesson can be about) and not while someone types in it, so typing — with a
  // phone keyboard's word suggestions too — is never interrupted by someone else's card.
  function renderForm() {
    if (!regions) return;
    const s = store();
    const parent = draft.buildsOn ? s.cards.get(draft.buildsOn) : null;
    const key = JSON.stringify([view.editing, draft.buildsOn, parent?.text, parent?.status, draft.kind, draft.lessonOf, s.session.phase,
      ended(), all(s, 'experiments').map((e) => e.title)]);
    kept.rebuild('form', regions.form, key, () => (view.editing
      ? renderEditForm(store(), formActions, { card: view.editing, draft })
      : renderAddForm(store(), formActions, { draft })));
  }

  /** "Build on this": the add form opens on the card, its text field focused. */
  function buildOn(card) {
    if (view.editing) stopEdit();
    draft.buildsOn = card.id;
    openAddForm();
  }

  function stopBuilding() {
    draft.buildsOn = null;
    renderForm();
    document.getElementById('card-text')?.focus();
  }

  /** A lesson about an experiment: the add form opens on a lesson about it. */
  function addLesson(experiment) {
    if (view.editing) stopEdit();
    Object.assign(draft, { kind: 'lesson', lessonOf: `experiment:${experiment.id}`, buildsOn: null });
    openAddForm();
  }

  function openAddForm() {
    renderForm();
    const textarea = document.getElementById('card-text');
    textarea?.focus({ preventScroll: true });
    regions.form.scrollIntoView({ block: 'start' });
  }

  /** One's own idea becomes an experiment; its form opens to fill in the plan. */
  async function makeExperiment(card) {
    const result = await run(experimentFromCard(card), t('experimentMade'));
    if (!result?.experiment) return;
    method.experiments.editing = result.experiment;
    method.focusNext = `#x-${CSS.escape(result.experiment)}-prediction`;
    update();
  }

  /**
   * While a round is open the cards (with their vote buttons) come first and the add-card form
   * moves below them. It never moves while someone is typing in it.
   */
  function placeForm(afterCards) {
    if (regions.formAfterCards === afterCards || regions.form.contains(document.activeElement)) return;
    if (afterCards) regions.cards.after(regions.form);
    else regions.cards.before(regions.form);
    regions.formAfterCards = afterCards;
  }

  // --- the floor: telling what changed -------------------------------------------------------

  /** Tells screen-reader users (and the hand, by vibrating) what changed on the floor. */
  function noticeFloor() {
    const floor = store().floor;
    if (!floor) return;
    const turn = floor.turn;
    const me = store().you?.id;
    const mine = Boolean(turn && turn.speaker === me);
    const place = mine ? null : queuePlace(floor, me)?.place ?? null;
    const turnId = turn ? turn.id : null;
    if (floorSeen.turn !== undefined && turnId !== floorSeen.turn) {
      if (mine) {
        announce(t('yourTurnAnnounce', { time: clock(turn.limit_ms / 1000) }));
        vibrate([200, 100, 200]);
      } else if (floorSeen.mine) {
        announce(t('yourTurnOver'));
      }
    } else if (floorSeen.turn === undefined && mine) {
      // Opened (or reloaded) the phone during one's own turn: say so, without buzzing.
      announce(t('yourTurnAnnounce', { time: clock(turn.limit_ms / 1000) }));
    }
    if (!mine && place === 1 && floorSeen.place !== 1 && floorSeen.turn !== undefined) announce(t('youAreNext'));
    floorSeen.turn = turnId;
    floorSeen.mine = mine;
    floorSeen.place = place;
  }

  /** Each tick: buzz once when 15 seconds of one's own turn are left. */
  function onClockTick(remaining, s) {
    // A hand that waited long enough: take the notice away.
    const waitUntil = s.you?.floor?.hand_wait_until;
    const serverTime = serverNow(s.floor, s.floorAt, performance.now());
    if (document.getElementById('hand-wait') && !(waitUntil > serverTime)) update();
    const turn = s.floor?.turn;
    if (!turn || turn.speaker !== s.you?.id || s.floor.paused || remaining === null) return;
    if (floorSeen.nearEnd === turn.id || turn.limit_ms <= NEAR_END_MS) return;
    if (remaining <= NEAR_END_MS && remaining > 0) {
      floorSeen.nearEnd = turn.id;
      vibrate(400);
      announce(t('fifteenSecondsLeft'));
    }
  }

  // --- warnings --------------------------------------------------------------------------------

  function closeWarning(key) {
    closedWarnings.add(key);
    saveClosedWarnings(conn.code, closedWarnings);
    update();
    document.getElementById('floor-heading')?.focus();
  }

  function noticeWarnings() {
    const keys = (yourFloor().warnings || []).map(warningKey);
    if (floorSeen.warnings !== null) {
      const fresh = keys.filter((k) => !floorSeen.warnings.includes(k) && !closedWarnings.has(k));
      if (fresh.length) announce(t('warningTitle'));
    }
    floorSeen.warnings = keys;
  }

  // --- the ground rules and reports ------------------------------------------------------------

  /**
   * The ground rules stand near the top in phase 0 (agreeing to them is part of getting
   * ready) and further down later on. They never move while someone is typing a report.
   */
  function placeRules(top) {
    if (regions.rulesAtTop === top || regions.flag.contains(document.activeElement)) return;
    const active = regions.rulesWrap.contains(document.activeElement) ? document.activeElement : null;
    if (top) regions.ask.after(regions.rulesWrap);
    else regions.budget.before(regions.rulesWrap);
    regions.rulesAtTop = top;
    // Moving a part of the page drops its focus: give it back where it was.
    if (active && document.activeElement !== active) active.focus({ preventScroll: true });
  }

  function openFlag() {
    // In an anonymous session a report starts anonymous too.
    Object.assign(flagDraft, { open: true, rule: '', about: '', note: '', anonymous: Boolean(store().session.anonymous_cards), error: null, busy: false });
    update();
    renderFlag();
    document.getElementById('flag-rule')?.focus();
  }

  function closeFlag() {
    flagDraft.open = false;
    flagDraft.error = null;
    renderFlag();
    update();
    document.getElementById('flag-open')?.focus();
  }

  /** The report form: built only when it opens or closes, so typing is never interrupted. */
  function renderFlag() {
    if (!regions) return;
    replace(regions.flag, flagDraft.open ? renderReportForm(store(), reportActions, { draft: flagDraft }) : null);
  }

  // --- putting it together ---------------------------------------------------------------------

  function header() {
    const session = store().session;
    return [
      h('h1', { id: 'session-title', tabindex: '-1', 'data-key': 'session-title' }, session.title),
      youAre(),
      session.problem ? h('details', { class: 'problem', open: true },
        h('summary', {}, t('problemHeading')),
        h('p', { class: 'problem-text' }, session.problem)) : null,
      session.status === 'ended' ? h('p', { class: 'notice', id: 'ended-notice' }, t('sessionEndedNotice')) : null,
      // Once it ended, the report, if the facilitator shares it (read with this phone's token).
      session.status === 'ended' && session.share_report
        ? h('p', { class: 'report-link' }, h('a', { class: 'button wide', id: 'report-link', href: `/r/${encodeURIComponent(conn.code)}?report` }, t('readReport')))
        : null,
    ];
  }

  /** "You take part as Anna (care worker)": who this phone is in the room. */
  function youAre() {
    const me = store().participants.get(store().you?.id);
    if (!me) return null;
    return h('p', { class: 'you-are', id: 'you-are', 'data-participant': me.id },
      t('youAre', { name: me.name, perspective: t(`perspective.${me.perspective}`) }));
  }

  /**
   * The floor comes first while the group works on the problem (phases 1 to 5), whenever it
   * is this person's turn and while they are invited to speak; otherwise, in phase 0, the work
   * of getting ready comes first and the floor follows the cards. It never moves while someone
   * has focus in it.
   */
  function placeFloor(top) {
    if (regions.floorAtTop === top) return;
    const active = regions.floor.contains(document.activeElement) ? document.activeElement : null;
    if (top) regions.warnings.after(regions.floor);
    else regions.cards.after(regions.floor);
    regions.floorAtTop = top;
    if (active && document.activeElement !== active) active.focus({ preventScroll: true });
  }

  /** Updates everything that follows the room; leaves the forms alone. */
  function update() {
    if (final || !store().ready) return render();
    if (!regions) return render();
    const s = store();
    setTitle(s.session.title);
    markShown();
    const round = openRound(s);
    const votes = round ? myVotes(s, round, conn.pending()) : null;
    if (shownPhase !== null && shownPhase !== s.session.phase) {
      announce(t('phaseChanged', { n: s.session.phase }));
      // A new phase asks for its own kind of card, and starts with the parts folded away.
      draft.kind = null;
      method.opened.clear();
      const select = document.getElementById('card-kind');
      if (select) select.value = kindForPhase(s.session.phase);
    }
    shownPhase = s.session.phase;
    const roundId = round ? round.id : null;
    if (shownRound !== undefined && shownRound !== roundId) {
      announce(round ? t('roundOpenedParticipant', { n: votes.remaining }) : t('roundClosed'));
    }
    shownRound = roundId;
    // The problem's <details> keeps whether the person opened or closed it.
    const details = regions.head.querySelector('details');
    const open = details ? details.open : true;
    replace(regions.head, header());
    const again = regions.head.querySelector('details');
    if (again) again.open = open;
    replace(regions.phase, phaseBlock(s.session.phase));
    replace(regions.round, renderRound(s, base, { round }));
    replace(regions.cards, renderBoard(s, boardActions, { round, votes, pending: conn.pending(), view }));
    replace(regions.budget, renderBudget(s, base, { round, votes }));
    renderForm();
    placeForm(Boolean(round && !ended()));
    updateMethod(s);
    // The floor and the ground rules.
    noticeFloor();
    noticeWarnings();
    replace(regions.warnings, renderWarnings(s, warningActions, { closed: closedWarnings }));
    replace(regions.floor, renderFloor(s, base));
    const myTurn = s.floor?.turn && s.floor.turn.speaker === s.you?.id;
    placeFloor(s.session.phase > 0 || Boolean(myTurn) || invitationShown(s));
    const unanswered = !ended() && mustAnswerRules(s.rules, yourFloor());
    const rulesOnTop = s.session.phase === 0 && Boolean(s.rules?.rules?.length);
    replace(regions.reminder, unanswered && !rulesOnTop ? renderRulesReminder(s, base) : null);
    replace(regions.rules, renderRules(s, rulesActions, { prominent: rulesOnTop || unanswered, flagOpen: flagDraft.open, fold: rulesFold }));
    placeRules(rulesOnTop);
    if (flagDraft.open && (ended() || !s.rules?.rules?.length)) {
      flagDraft.open = false;
      renderFlag();
    }
  }

  // --- the method's parts -----------------------------------------------------------------------

  /**
   * What the room asks of this person now (a readiness check, a consent round, a reflection)
   * near the top; the phase's work (who is at the table, the criteria, experiments) above the
   * cards. Each part's panel module is loaded when the part first shows.
   */
  function updateMethod(s) {
    const end = ended();
    const phase = s.session.phase;
    const check = latestCheck(s);
    const reflection = openOne(s, 'reflections');
    const asked = criteriaByStatus(s, 'asked');
    const you = s.you || {};
    // Counts are shown only once one answered: until then they do not build the part again.
    const answered = check && you.readiness?.some((a) => a.check === check.id) && !method.check.changing;
    const askKey = [
      reflection && [reflection.id, reflection.phase, you.reflections, method.reflection.changing],
      check && (answered ? check : [check.id, check.stage, check.conclusion, check.note]), you.readiness, method.check.changing,
      asked.map((c) => [c.id, c.text, c.target, c.unit]), you.consents, phase, method.loaded, end,
    ];
    kept.rebuild('ask', regions.ask, JSON.stringify(askKey), () => [
      reflection ? panels('reflection')?.renderReflectionAsk(store(), base, { draft: method.reflection }) : null,
      check && (check.stage === 'open' || phase === 0) ? panels('readiness')?.renderReadinessAsk(store(), base, { draft: method.check }) : null,
      asked.length ? panels('criteria')?.renderConsentAsk(store(), base) : null,
    ]);
    const experiments = all(s, 'experiments');
    const cards = [...s.cards.values()].map((c) => [c.id, c.status, c.text, c.kind, c.lesson_of]);
    const names = [...s.participants.values()].map((p) => p.name);
    kept.rebuild('work', regions.work, JSON.stringify([phase, all(s, 'parties'), all(s, 'criteria'), experiments, cards, names,
      method.experiments.editing, [...method.opened], method.loaded, end]), () => [
      phase <= 1 ? [
        folded('table', t('tableHeading'), (m) => m.renderTablePhone(store(), base, { draft: method.party, titled: false })),
        folded('criteria', t('criteriaHeading'), (m) => m.renderCriteriaPhone(store(), base, { draft: method.criterion, titled: false })),
      ] : null,
      phase === 5 ? panels('criteria')?.renderCriteriaPhone(store(), base, { draft: method.criterion }) : null,
      experiments.length
        ? panels('experiments')?.renderExperiments(store(), experimentActions, { view: method.experiments, drafts: method.experimentDrafts }) : null,
    ]);
    if (method.focusNext) {
      const target = document.querySelector(method.focusNext);
      if (target) {
        method.focusNext = null;
        target.focus({ preventScroll: true });
        target.scrollIntoView({ block: 'center' });
      }
    }
  }

  /** A part folded away behind a button; its panel loads when the person opens it. */
  function folded(name, label, draw) {
    const open = method.opened.has(name);
    const module = open ? panels(name) : null;
    return h('div', { class: 'disclosure' },
      h('button', {
        type: 'button', class: 'disclosure-button', id: `open-${name}`, 'data-key': `open-${name}`,
        'aria-expanded': String(open), 'aria-controls': `${name}-part`,
        onclick: () => {
          if (open) method.opened.delete(name);
          else method.opened.add(name);
          update();
        },
      }, label),
      h('div', { id: `${name}-part`, hidden: !open }, open ? module ? draw(module) : h('p', { class: 'loading' }, t('loadingPart')) : null));
  }

  function render() {
    if (final || !store().ready) {
      // The phone's bad_token never comes here: it goes back to the join form.
      regions = null;
      showAbsent(main, final);
      return;
    }
    regions = {
      head: h('div', { class: 'session-head' }),
      warnings: h('div', {}),
      floor: h('div', {}),
      ask: h('div', { class: 'ask-wrap' }),
      reminder: h('div', {}),
      phase: h('div', {}),
      work: h('div', { class: 'work' }),
      round: h('div', {}),
      form: h('div', {}),
      cards: h('div', {}),
      rulesWrap: h('div', { class: 'rules-wrap' }),
      rules: h('div', {}),
      flag: h('div', {}),
      budget: h('div', { class: 'budget-wrap' }),
      formAfterCards: false,
      rulesAtTop: false,
      floorAtTop: true,
    };
    regions.rulesWrap.append(regions.rules, regions.flag);
    kept.reset();
    replace(main, regions.head, regions.warnings, regions.floor, regions.ask, regions.reminder, regions.phase, regions.work,
      regions.round, regions.form, regions.cards, regions.rulesWrap, regions.budget);
    renderFlag();
    update();
    if (!focusedTitle) {
      // Arriving (after joining, or coming back): start reading at the session's title.
      focusedTitle = true;
      document.getElementById('session-title')?.focus({ preventScroll: true });
      // Start at the top, where the floor is (the join form may have left the page scrolled).
      window.scrollTo(0, 0);
    }
  }

  render();
  return { render };
}

/** Warnings whose banner this person closed, kept on the device per session. */
function loadClosedWarnings(code) {
  try {
    return new Set(JSON.parse(localStorage.getItem(`tafel:closed-warnings:${code}`) || '[]'));
  } catch {
    return new Set();
  }
}

function saveClosedWarnings(code, keys) {
  try {
    localStorage.setItem(`tafel:closed-warnings:${code}`, JSON.stringify([...keys]));
  } catch {
    // Private mode: closed for this page only.
  }
}
