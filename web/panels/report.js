// Report panel: what a session produced, on one page that also reads well on paper. The
// problem; who took part, by perspective; the readiness conclusion; the success criteria and
// whether they were met; the experiments with where they stand and how they went (one that
// failed shown exactly like one that worked); the lessons; the ranked result of every voting
// round (tied cards share a rank); the ground rules with agreement and violations per rule
// (never who); the balance of the floor, overall and per perspective; the reflections,
// without names; and last, the ideas per phase.
//
// - reportStore: a Report (GET …/report, docs/report.schema.json) as the store the panels
//   read, so each part is drawn by the same function as live: a card, a criterion, an
//   experiment, a ranking, the readiness counts.
// - renderReport: the whole report.
//
// Needs the Report, not a live store. Nothing to press: actions are not used.

import { h } from '../dom.js';
import { t, lang } from '../i18n.js';
import { ranking } from '../ui.js';
import { latestCheck, all, duration, PHASES } from '../model.js';
import { readinessCounts, conclusionLine } from './readiness.js';
import { criterionItem } from './criteria.js';
import { experimentItem } from './experiments.js';
import { renderLessons } from './lessons.js';
import { cardView, conditionList, topLevel } from './cards.js';
import { coverageTable } from './table.js';
import { reflectionEntries, reflectionTitle } from './reflection.js';
import { balanceLine, perspectiveTable, table, num } from './balance.js';
import { STATUS_WORDS } from './session.js';

const byId = (list) => new Map(list.map((x) => [x.id, x]));

/**
 * The report as a store: the session, the cards on the board (lessons with what they are
 * about; an experiment's idea kept even when it left the board), the rounds with their
 * ranking as results, the criteria, experiments, checks, parties, table and reflections. It
 * names nobody: the report holds no names but the experiments' owners.
 */
export function reportStore(report) {
  const about = new Map(report.lessons.map((l) => [l.card, l.about]));
  const cards = new Map();
  for (const { phase, cards: list } of report.phases) {
    for (const card of list) cards.set(card.id, { ...card, phase, status: 'visible', lesson_of: about.get(card.id) });
  }
  for (const e of report.experiments) {
    if (e.from_card && !cards.has(e.from_card) && e.idea) cards.set(e.from_card, { id: e.from_card, kind: 'idea', text: e.idea, status: 'hidden' });
  }
  return {
    ready: true,
    role: report.role,
    you: null,
    session: { ...report.session, display: {} },
    participants: new Map(),
    cards,
    rounds: byId(report.rounds.map((r) => ({ ...r, status: r.closed_at ? 'closed' : 'open', results: r.ranking }))),
    floor: null,
    rules: { ...report.rules, rules: report.rules.rules.map((r, i) => ({ ...r, id: String(i + 1) })) },
    reports: new Map(),
    checks: byId(report.readiness),
    parties: byId(report.parties),
    table: report.table,
    criteria: byId(report.criteria),
    experiments: byId(report.experiments),
    // Without names, whoever wrote them.
    reflections: byId(report.reflections.map((r) => ({ ...r, entries: r.entries.map(({ worked, not_worked: notWorked }) => ({ worked, not_worked: notWorked })) }))),
  };
}

/** A section of the report with its heading; `id` names both. */
function section(id, heading, ...content) {
  return h('section', { class: `panel rp-section rp-${id}`, id: `rp-${id}`, 'aria-labelledby': `rp-${id}-heading` },
    h('h2', { id: `rp-${id}-heading` }, heading),
    content);
}

function dateText(millis) {
  return new Date(millis).toLocaleDateString(lang(), { day: 'numeric', month: 'long', year: 'numeric' });
}

/** When, how far the session came, and where it stands. */
function facts(report) {
  const s = report.session;
  return h('dl', { class: 'rp-facts' },
    h('div', {}, h('dt', {}, t('reportDate')), h('dd', {}, dateText(s.created_at))),
    h('div', {}, h('dt', {}, t('reportReached')), h('dd', {}, t('aboutPhase', { n: s.phase, name: t(`phase.${s.phase}`) }))),
    h('div', {}, h('dt', {}, t('reportStatus')), h('dd', {}, t(STATUS_WORDS[s.status]))),
    h('div', {}, h('dt', {}, t('joinCodeLabel')), h('dd', {}, s.code)));
}

function people(store, report) {
  const total = report.participants.reduce((n, p) => n + p.people, 0);
  return section('people', t('reportPeople'),
    h('p', {}, t('reportPeopleCount', { n: total })),
    report.participants.length ? table('rp-people-table', t('reportPeopleCaption'), [t('colPerspective'), num(t('colPeople'))],
      report.participants.map((p) => h('tr', { 'data-perspective': p.perspective },
        h('th', { scope: 'row' }, t(`perspective.${p.perspective}`)),
        h('td', { class: 'num' }, String(p.people))))) : null,
    report.parties.length ? [h('h3', {}, t('tableHeading')), coverageTable(store, { id: 'rp-coverage' })] : null);
}

function readiness(store) {
  const check = latestCheck(store);
  return section('readiness', t('readinessHeading'),
    check ? [conclusionLine(check) || h('p', { class: 'empty' }, t('noConclusion')), readinessCounts(check, { ids: 'rp' })]
      : h('p', { class: 'empty' }, t('noCheck')));
}

function criteria(store) {
  const list = all(store, 'criteria').filter((c) => c.status !== 'dropped');
  return section('criteria', t('criteriaHeading'),
    list.length ? h('ul', { class: 'criteria' }, list.map((c) => criterionItem(c, {
      status: c.status !== 'agreed',
      more: c.status === 'agreed' && !c.assessment ? h('p', { class: 'assessment' }, h('span', { class: 'badge' }, t('notAssessed'))) : null,
    }))) : h('p', { class: 'empty' }, t('noCriteria')));
}

function experiments(store) {
  const list = all(store, 'experiments');
  return section('experiments', t('experimentsHeading'),
    h('p', { class: 'hint' }, t('reportExperimentsIntro')),
    list.length ? h('ul', { class: 'experiment-list' }, list.map((e) => experimentItem(store, e)))
      : h('p', { class: 'empty' }, t('noExperiments')));
}

function rounds(store) {
  const list = all(store, 'rounds');
  return section('rounds', t('reportRounds'),
    list.length ? list.map((r, i) => h('div', { class: 'rp-round', 'data-round': r.id },
      h('h3', { id: `rp-round-${r.id}` }, t('reportRound', { n: i + 1, phase: r.phase, name: t(`phase.${r.phase}`) })),
      h('p', { class: 'hint' }, r.status === 'closed' ? t('reportRoundVoters', { n: r.voters }) : t('reportRoundOpen')),
      r.results.length ? ranking(store, r, { id: `ranking-${r.id}` }) : null))
      : h('p', { class: 'empty' }, t('reportNoRounds')));
}

/** The cards of each phase, conditions under their idea. */
function ideas(store) {
  const phases = PHASES.map((n) => ({ n, cards: [...store.cards.values()].filter((c) => c.status === 'visible' && c.phase === n) })).filter((p) => p.cards.length);
  return section('ideas', t('reportIdeas'),
    phases.length ? phases.map(({ n, cards }) => {
      const shown = new Set(cards.map((c) => c.id));
      const draw = (card, underIdea = false) => cardView(card, {
        store, thread: !underIdea, nested: conditionList(store, card, (c) => draw(c, true), shown),
      });
      return h('div', { class: 'rp-phase', 'data-phase': n },
        h('h3', {}, t('aboutPhase', { n, name: t(`phase.${n}`) }), ' ', h('span', { class: 'rp-count' }, t('cardsCount', { n: cards.length }))),
        h('ul', { class: 'cards' }, topLevel(cards, shown).map((c) => draw(c))));
    }) : h('p', { class: 'empty' }, t('noCards')));
}

function rules(store) {
  const { rules: list, agreed, disagreed } = store.rules;
  const broken = list.reduce((n, r) => n + r.violations, 0);
  return section('rules', t('rulesHeading'),
    list.length ? [
      h('p', { class: 'rules-tally' }, t('rulesTally', { yes: agreed, no: disagreed })),
      h('p', {}, broken ? t('reportViolations', { n: broken }) : t('reportNoViolations')),
      table('rp-rules-table', t('reportRulesCaption'), [t('colNumber'), t('colRule'), num(t('colTimes'))],
        list.map((r) => h('tr', { 'data-rule': r.id, 'data-violations': r.violations },
          h('td', { class: 'num' }, r.id),
          h('th', { scope: 'row', dir: 'auto' }, r.text),
          h('td', { class: 'num' }, String(r.violations))))),
    ] : h('p', { class: 'empty' }, t('noRulesYet')));
}

function balance(report) {
  const floor = report.floor;
  // A participant's report has the turns, not how they were shared (as live: each phone saw
  // only its own share).
  const shown = floor.figure !== undefined && floor.figure !== null;
  return section('balance', t('balanceHeading'),
    h('p', {}, t(floor.turns === 1 ? 'reportTurnsOne' : 'reportTurns', { n: floor.turns, time: duration(floor.spoken_ms) })),
    shown ? [balanceLine({ figure: floor.figure }, false), h('p', { class: 'hint' }, t('balanceExplain'))]
      : h('p', { class: 'empty' }, floor.turns ? t('reportBalanceNotShown') : t('balanceNone')),
    perspectiveTable(floor.per_perspective, 'rp-balance-table'));
}

function reflections(store) {
  const list = all(store, 'reflections');
  if (!list.length) return null;
  return section('reflections', t('reflectionHeading'),
    list.map((r) => h('div', { class: 'rp-reflection' }, h('h3', {}, reflectionTitle(r)), reflectionEntries(store, r))));
}

/** The whole report. */
export function renderReport(report) {
  const store = reportStore(report);
  const s = report.session;
  const lessons = renderLessons(store);
  lessons.classList.add('rp-section');
  return h('div', { class: 'rp', id: 'report', 'data-role': report.role },
    facts(report),
    section('problem', t('problemHeading'), s.problem ? h('p', { class: 'problem-text', dir: 'auto' }, s.problem) : h('p', { class: 'empty' }, t('reportNoProblem'))),
    people(store, report),
    readiness(store),
    criteria(store),
    experiments(store),
    lessons,
    rounds(store),
    rules(store),
    balance(report),
    reflections(store),
    ideas(store));
}
