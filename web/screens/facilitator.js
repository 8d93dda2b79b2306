// Facilitator console (/f/CODE#token; laptop or tablet, also fine on a phone), built around the
// current phase: at the top the session's title and one line of signals (hands waiting, new
// reports, phones gone offline); then, in view on a 1280×800 laptop without scrolling, the
// floor and the vote beside the phases and the phase's cards. Under the vote the session's
// status with lock and end, and "open on another device"; under the cards what the method asks
// of this phase (readiness, who is at the table, criteria, experiments, lessons, a
// reflection), the rest of it folded away. Further down the reports, the balance, who is
// there, and folded away the setup (invitation and ground rules; in phase 0, while people
// join, it stands open under the phases instead) and the replay and report (open once the
// session ended).
//
// The parts are panels (web/panels/); this screen keeps the drafts and the open questions
// (end the session? merge which card? show the running totals?), and builds the parts with
// form fields again only when what they show changed and nobody is typing in them. Every
// form sends what the room is when it is sent (actions.latest()), not what it was when drawn.

import { h, replace } from '../dom.js';
import { copyField } from '../ui.js';
import { t } from '../i18n.js';
import { getToken, setToken, forgetToken, takeTokenFromFragment, rememberFacilitating, forgetFacilitating, fetchOk } from '../api.js';
import { connect } from '../conn.js';
import {
  errorText, announce, showError, showConnection, setTitle, startFloorClock, homeLink, showStopped, showAbsent, keptRegions,
} from '../ui.js';
import { openRound, isEnded } from '../model.js';
import { renderReadinessConsole } from '../panels/readiness-console.js';
import { renderTableConsole, renderTableWarning } from '../panels/table-console.js';
import { renderCriteriaConsole } from '../panels/criteria-console.js';
import { renderExperimentsConsole } from '../panels/experiments-console.js';
import { renderReflectionConsole } from '../panels/reflection-console.js';
import { renderLessons } from '../panels/lessons.js';
import { renderAllCards } from '../panels/cards-console.js';
import { renderOpenRound, renderRoundStatus } from '../panels/voting-console.js';
import { renderFloorConsole, renderGiveAny } from '../panels/floor-console.js';
import { renderFloorSettings } from '../panels/floor-settings.js';
import { renderBalance } from '../panels/balance.js';
import { renderRulesTally, renderRulesEditor } from '../panels/rules-console.js';
import { renderReports } from '../panels/reports-console.js';
import { renderParticipants } from '../panels/participants.js';
import { renderStatus, renderPhases, renderInvite } from '../panels/session.js';
import { renderSignals } from '../panels/signals-console.js';
import { renderAfterwards } from '../panels/afterwards-console.js';

export const NAME = 'facilitator';

/** The method's parts each phase works on, shown at the top; the others are folded away. A
 * reflection can be opened in every phase. */
const PHASE_WORK = [
  ['readiness', 'table', 'criteria'],
  ['table', 'criteria'],
  [],
  ['experiments'],
  ['experiments'],
  ['criteria', 'experiments', 'lessons'],
];
const METHOD_PARTS = ['readiness', 'table', 'criteria', 'experiments', 'lessons'];

export function start(main, { code }) {
  const token = takeTokenFromFragment('facilitator', code);
  if (!token) {
    const render = () => showStopped(main, t('noFacilitatorToken'), homeLink());
    render();
    return { render };
  }

  const conn = connect({ code, kind: 'facilitator' });
  const draft = { budget: '5', maxPerCard: '3', live: false };
  // What only this screen knows: an open question, a hidden round's totals shown, and the
  // folded parts as the facilitator left them (null: as the phase suggests).
  const view = { confirmEnd: false, confirmDelete: 0, showTotals: false, setupOpen: null };
  let merging = null; // id of the card being merged into another
  let final = null;
  let regions = null;
  let roundShown; // the open round the voting form was built for
  // Parts with form fields are built again only when what they show changed (and not while
  // the facilitator is typing in them), so a busy room never closes a drop-down list.
  const kept = keptRegions(() => update());
  const ruleDrafts = new Map(); // rule id → text being edited
  const floorDraft = { giveTo: '', newRule: '' };
  const reportDrafts = new Map(); // report id → { consequence: 'none' | 'warning' | 'hand_wait', minutes }
  // The method's forms: what is typed or chosen and not sent yet.
  const method = {
    check: { conclusion: null, note: '' },
    party: { name: '', perspective: 'client', stake: 'both' },
    criterion: { text: '', target: '', unit: '' },
    assessing: new Map(), // criterion id → { assessment, note }
    experiments: { editing: null },
    experimentDrafts: new Map(), // experiment id → the form's fields
    newExperiment: { title: '' },
  };

  window.__tafel = conn.testHooks();
  showConnection(conn);
  startFloorClock(() => conn.store);
  conn.on('change', () => update());
  conn.on('error', (err) => showError(errorText(err)));
  conn.on('final', (err) => {
    if (err.code === 'bad_token') forgetToken('facilitator', code);
    final = err;
    render();
  });

  const store = () => conn.store;
  const ended = () => isEnded(store());

  async function run(cmd, doneText) {
    try {
      const result = await conn.send(cmd);
      announce(doneText || t('done'));
      return result;
    } catch (err) {
      showError(errorText(err));
      return null;
    }
  }

  /** Deletes the session for good (asked twice before this), then says so. */
  async function deleteSession() {
    try {
      await fetchOk('DELETE', `/api/sessions/${encodeURIComponent(code)}`, null, getToken('facilitator', code));
    } catch (err) {
      showError(errorText(err));
      return;
    }
    conn.close();
    forgetFacilitating(code); // its tokens, and its line on the home page
    try {
      localStorage.removeItem(`tafel:replay-urls:${code}`);
    } catch {
      // Nothing kept.
    }
    showStopped(main, t('sessionDeleted'), homeLink());
  }

  // What the panels may do (see ui.js).
  const actions = {
    send: run, refresh: () => update(), latest: () => conn.store,
    merge: startMerge, mergeInto, cancelMerge, newProjectorLink, makeReplayLink, deleteSession,
  };
  const replayUrls = loadReplayUrls(code);

  // --- invite ----------------------------------------------------------------------------------

  function links() {
    const session = store().session;
    const projectorToken = getToken('projector', code);
    return {
      projector: projectorToken ? `${new URL(`/p/${code}`, session.join_url).href}#${projectorToken}` : null,
      facilitator: `${new URL(`/f/${code}`, session.join_url).href}#${token}`,
    };
  }

  // Tokens are stored hashed, so a facilitator on another device asks for a new projector link.
  async function newProjectorLink() {
    const result = await run({ type: 'projector_link' }, t('projectorLinkMade'));
    const made = result?.projector_url?.split('#')[1];
    if (made) {
      setToken('projector', code, made);
      update();
      document.getElementById('projector-link')?.focus();
    }
  }

  // A replay link's address holds its token, which the server keeps only hashed: this device
  // keeps the addresses it made, to copy them again later.
  async function makeReplayLink() {
    const result = await run({ type: 'replay_link' }, t('replayLinkMadeDone'));
    if (!result?.replay_link || !result.replay_url) return;
    replayUrls.set(result.replay_link, result.replay_url);
    saveReplayUrls(code, replayUrls);
    update();
    document.getElementById(`replay-url-${result.replay_link}`)?.focus();
  }

  // --- merging ---------------------------------------------------------------------------------
  // Merging is two picks on the cards themselves: "merge" on the duplicate, then "merge with
  // this one" on the card that stays. The merged card stays in the console with an undo.

  function startMerge(card) {
    merging = card.id;
    update();
    document.getElementById('merge-pick')?.focus();
  }

  function cancelMerge() {
    const id = merging;
    merging = null;
    update();
    document.querySelector(`[data-key="merge-${CSS.escape(id)}"]`)?.focus();
  }

  async function mergeInto(target) {
    const id = merging;
    merging = null;
    update();
    const done = await run({ type: 'merge_cards', card: id, into: target.id }, t('mergedDone'));
    if (done) document.querySelector(`[data-key="unmerge-${CSS.escape(id)}"]`)?.focus();
  }

  // --- putting it together ------------------------------------------------------------------------

  function update() {
    if (final || !store().ready || !regions) return render();
    const s = store();
    setTitle(`${t('facilitatorHeading')}: ${s.session.title}`);
    rememberFacilitating(code, { title: s.session.title, status: s.session.status, created_at: s.session.created_at });
    replace(regions.head,
      h('p', { class: 'eyebrow sr-only' }, t('facilitatorHeading')),
      h('h1', {}, s.session.title),
      s.session.problem ? h('p', { class: 'problem-text' }, s.session.problem) : null);
    replace(regions.signals, renderSignals(s));
    kept.rebuild('invite', regions.invite, JSON.stringify([s.session.join_url, links(), ended()]),
      () => renderInvite(store(), actions, { links: links() }));
    kept.rebuild('other-device', regions.otherDevice, JSON.stringify(links().facilitator), () => [
      h('p', { class: 'hint', id: 'other-device-text' }, t('otherDeviceText')),
      copyField('facilitator-link', t('facilitatorLinkLabel'), links().facilitator),
    ]);
    replace(regions.session, renderStatus(s, actions, { view }));
    replace(regions.phase, renderPhases(s, actions));
    // Setting up is open in phase 0 and folded away after, unless the facilitator chose.
    regions.setupAuto = view.setupOpen ?? s.session.phase === 0;
    if (regions.setup.open !== regions.setupAuto) regions.setup.open = regions.setupAuto;
    // While people join (phase 0) the invitation stands under the phases; after, at the foot.
    const setupHere = s.session.phase === 0 ? regions.setupTop : regions.setupBottom;
    if (regions.setup.parentNode !== setupHere) setupHere.append(regions.setup);
    // After the end, looking back is the work: the replay and report open (once).
    if (ended() && !view.afterwardsOpened) {
      view.afterwardsOpened = true;
      regions.afterwardsFold.open = true;
    }
    const round = openRound(s);
    // The form opens a round on the current phase: built again when the phase changes.
    const roundKey = ended() ? 'ended' : round ? round.id : `none:${s.session.phase}`;
    if (roundKey !== roundShown) {
      roundShown = roundKey;
      replace(regions.votingForm, round || ended() ? null : renderOpenRound(s, actions, { draft }));
    }
    replace(regions.votingStatus, renderRoundStatus(s, actions, { view }));
    replace(regions.people, renderParticipants(s));
    if (merging && s.cards.get(merging)?.status !== 'visible') merging = null;
    replace(regions.cards, renderAllCards(s, actions, { view, merging: merging ? s.cards.get(merging) : null }));
    // The floor, its balance, the ground rules and reports.
    const floor = s.floor;
    const names = [...s.participants.values()].map((p) => `${p.id}:${p.name}:${p.perspective}`).join('|');
    replace(regions.floor, renderFloorConsole(s, actions));
    kept.rebuild('give', regions.give, JSON.stringify([floor?.queue, floor?.turn?.speaker, names, ended()]),
      () => renderGiveAny(store(), actions, { draft: floorDraft }));
    kept.rebuild('settings', regions.settings, JSON.stringify([floor?.settings, ended()]), () => renderFloorSettings(store(), actions));
    replace(regions.balance, renderBalance(s));
    replace(regions.rulesTally, renderRulesTally(s));
    kept.rebuild('afterwards', regions.afterwards, JSON.stringify([[...(s.replay_links?.values() || [])], [...replayUrls], s.session.share_report, ended()]),
      () => renderAfterwards(store(), actions, { urls: replayUrls }));
    kept.rebuild('rules', regions.rules, JSON.stringify([s.rules?.rules, ended()]),
      () => renderRulesEditor(store(), actions, { drafts: ruleDrafts, draft: floorDraft }));
    kept.rebuild('reports', regions.reports, JSON.stringify([[...s.reports.values()], s.rules?.rules, names, ended()]),
      () => renderReports(store(), actions, { drafts: reportDrafts }));
    updateMethod(s, names);
  }

  /** The method's parts: the current phase's at the top, the others folded away. */
  function updateMethod(s, names) {
    replace(regions.tableWarning, renderTableWarning(s));
    const phase = s.session.phase;
    if (regions.workPhase !== phase) {
      regions.workPhase = phase;
      const work = PHASE_WORK[phase] || [];
      replace(regions.work,
        h('p', { class: 'guide', id: 'console-guide' }, t(`guideConsole.${phase}`)),
        work.map((part) => regions[part]),
        regions.reflection);
      replace(regions.moreBody, METHOD_PARTS.filter((part) => !work.includes(part)).map((part) => regions[part]));
    }
    const end = ended();
    kept.rebuild('readiness', regions.readiness, JSON.stringify([[...(s.checks?.values() || [])], end]),
      () => renderReadinessConsole(store(), actions, { draft: method.check }));
    kept.rebuild('table', regions.table, JSON.stringify([[...(s.parties?.values() || [])], s.table, s.session.display, end]),
      () => renderTableConsole(store(), actions, { draft: method.party }));
    kept.rebuild('criteria', regions.criteria, JSON.stringify([[...(s.criteria?.values() || [])], phase, s.session.display, end]),
      () => renderCriteriaConsole(store(), actions, { draft: method.criterion, assessing: method.assessing }));
    const ideas = [...s.cards.values()].map((c) => [c.id, c.status, c.kind, c.text, c.lesson_of]);
    const closedRounds = [...s.rounds.values()].filter((r) => r.status === 'closed').map((r) => r.id);
    kept.rebuild('experiments', regions.experiments,
      JSON.stringify([[...(s.experiments?.values() || [])], method.experiments.editing, ideas, closedRounds, names, phase, end]),
      () => renderExperimentsConsole(store(), actions, { view: method.experiments, drafts: method.experimentDrafts, draft: method.newExperiment }));
    kept.rebuild('reflection', regions.reflection, JSON.stringify([[...(s.reflections?.values() || [])], names, phase, end]),
      () => renderReflectionConsole(store(), actions));
    replace(regions.lessons, phase === 5 || regions.moreBody.contains(regions.lessons) ? renderLessons(s) : null);
  }

  function render() {
    if (final || !store().ready) {
      regions = null;
      showAbsent(main, final);
      return;
    }
    regions = {
      head: h('div', { class: 'session-head' }),
      signals: h('div', { class: 'signals-wrap' }),
      invite: h('div', {}),
      session: h('div', {}),
      phase: h('div', {}),
      votingForm: h('div', {}),
      votingStatus: h('div', {}),
      people: h('div', {}),
      cards: h('div', {}),
      floor: h('div', {}),
      give: h('div', {}),
      settings: h('div', {}),
      balance: h('div', {}),
      rulesTally: h('div', {}),
      rules: h('div', {}),
      reports: h('div', {}),
      tableWarning: h('div', {}),
      work: h('div', { class: 'work', id: 'phase-work' }),
      moreBody: h('div', {}),
      workPhase: null,
      readiness: h('div', {}),
      table: h('div', {}),
      criteria: h('div', {}),
      experiments: h('div', {}),
      reflection: h('div', {}),
      lessons: h('div', {}),
      afterwards: h('div', {}),
      otherDevice: h('div', { class: 'other-device-body' }),
      setupTop: h('div', {}),
      setupBottom: h('div', {}),
      afterwardsFold: h('details', { class: 'panel fold afterwards-fold', id: 'afterwards-fold' }),
      setup: h('details', { class: 'panel fold setup', id: 'setup', ontoggle: (e) => {
        // Only the facilitator's own opening or closing counts, not the one the phase made.
        if (regions && e.target.open !== regions.setupAuto) view.setupOpen = e.target.open;
      } }),
    };
    roundShown = undefined;
    kept.reset();
    replace(regions.afterwardsFold,
      h('summary', {}, h('h2', {}, t('sessionMoreHeading'))),
      regions.afterwards);
    regions.afterwardsFold.open = Boolean(view.afterwardsOpened);
    replace(regions.setup,
      h('summary', {}, h('h2', {}, t('setupHeading'))),
      regions.invite,
      h('section', { class: 'panel rules-panel', 'aria-labelledby': 'rules-edit-heading' },
        h('h2', { id: 'rules-edit-heading' }, t('rulesHeading')),
        regions.rulesTally,
        regions.rules));
    // Reading order is the working order: the signals, the floor, the vote, then the phase and
    // its cards; so "give the floor" is a few tab stops from the top.
    replace(main,
      h('div', { class: 'console-top' }, regions.head, regions.signals),
      regions.tableWarning,
      h('div', { class: 'console' },
        h('div', { class: 'console-col console-side' },
          h('div', { class: 'floor-wrap' }, regions.floor),
          h('section', { class: 'panel voting', 'aria-labelledby': 'voting-heading' },
            h('h2', { id: 'voting-heading' }, t('votingHeading')),
            regions.votingForm,
            regions.votingStatus),
          h('div', { class: 'panel floor-more' }, regions.give,
            h('details', { class: 'settings-details' },
              h('summary', {}, t('floorSettingsHeading')),
              regions.settings)),
          regions.session,
          h('details', { class: 'panel fold other-device', id: 'other-device' },
            h('summary', { id: 'other-device-summary' }, h('h2', {}, t('otherDeviceHeading'))),
            regions.otherDevice)),
        h('div', { class: 'console-col console-main' },
          regions.phase,
          regions.setupTop,
          regions.cards,
          regions.work,
          h('details', { class: 'panel more-method', id: 'more-method' },
            h('summary', {}, t('moreMethod')),
            regions.moreBody))),
      h('div', { class: 'console console-below' },
        h('div', { class: 'console-col' },
          regions.reports,
          regions.balance),
        h('div', { class: 'console-col' },
          regions.people,
          regions.setupBottom,
          regions.afterwardsFold)));
    update();
  }

  render();
  return { render };
}

/** The replay links this device made: link id → its address. */
function loadReplayUrls(code) {
  try {
    return new Map(Object.entries(JSON.parse(localStorage.getItem(`tafel:replay-urls:${code}`) || '{}')));
  } catch {
    return new Map();
  }
}

function saveReplayUrls(code, urls) {
  try {
    localStorage.setItem(`tafel:replay-urls:${code}`, JSON.stringify(Object.fromEntries(urls)));
  } catch {
    // Private mode: kept for this page only.
  }
}
