// Speakers panel (replay): who spoke when. A lane per person (the facilitator's replay) or per
// perspective (a replay link), every turn a bar on the same time axis as the timeline, the
// floor time of each lane, and the balance figure over the session as a line. Drawn here as
// inline SVG; the drawings are decoration for screen readers, which get the same in tables.
//
// - renderSpeakers: the panel, built once per timeline.
// - showSpeakersAt: moves its cursors to change n and says the balance figure then.
//
// Needs the ReplayTimeline (times, lanes, balance). Nothing to press: actions are not used.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { duration } from '../model.js';
import { figureText, figureWords } from '../ui.js';
import { WIDTH, timeScale, placeCursors, svg, clockTime } from './timeline.js';
import { table, num } from './balance.js';

const LANE_HEIGHT = 20;
const CHART_HEIGHT = 100;
/** The balance words' bounds (model.js balanceWord), drawn as dashed lines. */
const BOUNDS = [0.8, 0.6];

/** A lane's name: the person (with their perspective), or the perspective. */
function laneName(lane) {
  return lane.name ?? t(`perspective.${lane.perspective}`);
}

/** The balance figure at `at`: the last one after a turn that ended by then, or null. */
function figureAt(timeline, at) {
  return [...timeline.balance].reverse().find(([when]) => when <= at)?.[1] ?? null;
}

function lane(timeline, l, x) {
  return h('li', { class: 'lane', 'data-lane': l.id, 'data-turns': l.turns.length, 'data-floor-ms': l.floor_ms },
    h('p', { class: 'lane-label' },
      h('span', { class: 'lane-name', dir: 'auto' }, laneName(l)),
      l.name ? h('span', { class: 'lane-perspective' }, t(`perspective.${l.perspective}`)) : null,
      h('span', { class: 'lane-time' }, t(l.turns.length === 1 ? 'laneTimeOne' : 'laneTime', { time: duration(l.floor_ms), n: l.turns.length }))),
    svg('svg', { class: 'lane-track', viewBox: `0 0 ${WIDTH} ${LANE_HEIGHT}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' },
      svg('rect', { class: 'track', x: 0, y: 0, width: WIDTH, height: LANE_HEIGHT }),
      l.turns.map(([start, end]) => svg('rect', {
        class: 'turn-bar', x: x(start), y: 3, width: Math.max(2, x(end) - x(start)), height: LANE_HEIGHT - 6,
      })),
      svg('line', { class: 'cursor', x1: 0, x2: 0, y1: 0, y2: LANE_HEIGHT })));
}

/** The balance after each turn as a line: each figure holds until the next. */
function balanceChart(timeline, x) {
  const y = (figure) => 5 + (1 - figure) * (CHART_HEIGHT - 10);
  const points = timeline.balance;
  const { t1 } = timeScale(timeline);
  const path = points.map(([at, figure], i) => `${i ? 'H' : 'M'}${x(at)} ${i ? `V${y(figure)}` : y(figure)}`).join(' ');
  return svg('svg', { class: 'balance-chart', viewBox: `0 0 ${WIDTH} ${CHART_HEIGHT}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' },
    svg('rect', { class: 'track', x: 0, y: 0, width: WIDTH, height: CHART_HEIGHT }),
    BOUNDS.map((b) => svg('line', { class: 'bound', x1: 0, x2: WIDTH, y1: y(b), y2: y(b) })),
    points.length ? svg('path', { class: 'balance-path', d: `${path} H${x(t1)}` }) : null,
    svg('line', { class: 'cursor', x1: 0, x2: 0, y1: 0, y2: CHART_HEIGHT }));
}

/** The same as tables: the lanes with their turns, and the balance after each turn. */
function tables(timeline) {
  const perPerson = timeline.role === 'facilitator';
  return h('details', { class: 'as-table', id: 'speakers-tables' },
    h('summary', {}, t('asTable')),
    table('lanes-table', perPerson ? t('lanesPerPerson') : t('lanesPerPerspective'),
      [perPerson ? t('colName') : t('colPerspective'), num(t('colTurns')), num(t('colFloorTime')), t('colWhen')],
      timeline.lanes.map((l) => h('tr', { 'data-lane': l.id },
        h('th', { scope: 'row', dir: 'auto' }, laneName(l)),
        h('td', { class: 'num' }, String(l.turns.length)),
        h('td', { class: 'num' }, duration(l.floor_ms)),
        h('td', {}, l.turns.map(([start, end]) => `${clockTime(start)}–${clockTime(end)}`).join(', '))))),
    timeline.balance.length ? table('balance-table', t('balanceOverTime'), [t('colTime'), num(t('colFigure'))],
      timeline.balance.map(([at, figure]) => h('tr', {},
        h('th', { scope: 'row' }, clockTime(at)),
        h('td', { class: 'num' }, figureText(figure))))) : null);
}

/** Who spoke when, for the whole session. */
export function renderSpeakers(timeline) {
  const { x } = timeScale(timeline);
  const perPerson = timeline.role === 'facilitator';
  return h('section', { class: 'panel speakers', id: 'speakers', 'aria-labelledby': 'speakers-heading' },
    h('h2', { id: 'speakers-heading' }, t('speakersHeading')),
    h('p', { class: 'hint' }, perPerson ? t('speakersIntroPerson') : t('speakersIntroPerspective')),
    timeline.lanes.length
      ? h('ul', { class: 'lanes', id: 'lanes' }, timeline.lanes.map((l) => lane(timeline, l, x)))
      : h('p', { class: 'empty' }, t('nobodySpoke')),
    h('h3', { id: 'balance-over-time' }, t('balanceOverTime')),
    h('p', { class: 'balance-now', id: 'balance-now' }),
    timeline.balance.length ? [balanceChart(timeline, x), h('p', { class: 'hint' }, t('balanceChartHint'))] : null,
    timeline.lanes.length ? tables(timeline) : null);
}

/** Moves the panel's cursors to change n and says the balance figure at that moment. */
export function showSpeakersAt(root, timeline, n) {
  const at = timeline.times[n - 1];
  placeCursors(root, timeScale(timeline).x(at));
  const figure = figureAt(timeline, at);
  const now = root.querySelector('#balance-now');
  now.dataset.value = figure ?? '';
  now.textContent = figure === null ? t('balanceNone') : t('balanceAt', { figure: figureText(figure), words: figureWords(figure) });
}
