// Timeline panel (replay): the session from its first change to its last, with its phases,
// turns, votes, reports and the method's moments marked on it; a slider to scrub through it,
// buttons to step (change by change, turn by turn, phase by phase), playing at 1×, 4× or 16×
// with long silences shortened, and every marked moment in a list to jump to.
//
// - renderTimeline: the panel, built once per timeline.
// - showPosition: moves the panel to a change (the slider, the cursor, the time in words,
//   which steps lead anywhere) without building it again, so a slider being dragged keeps
//   its grip.
// - changeAt, stepTarget, playWait: where the timeline goes; timeScale, placeCursors, svg,
//   clockTime: the time axis and drawing the other replay panels share.
//
// Needs the ReplayTimeline (times, marks), not a store: the timeline is the same at every
// moment. actions: go(n, { fromSlider }), step(what, dir), play(), pause(), speed(s).

import { h, append } from '../dom.js';
import { t, lang } from '../i18n.js';
import { duration } from '../model.js';

/** The width every time axis is drawn in (SVG units); the screen stretches it. */
export const WIDTH = 1000;

/** The longest a pause between two changes lasts while playing, in ms: a long silence plays
 * as a short pause. */
export const LONGEST_PAUSE_MS = 1500;

export const SPEEDS = [1, 4, 16];

// --- where the timeline goes -------------------------------------------------------------------

/** How many changes were made at or before `at` (at least the first): the moment `?at=` opens. */
export function changeAt(times, at) {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= at) lo = mid + 1;
    else hi = mid;
  }
  return Math.max(1, lo);
}

/** The commands a step goes to: a turn is where one is given, a phase where it was set. */
const STEP_MARKS = { turn: 'give_floor', phase: 'set_phase' };

/**
 * Where a step from change n goes: 'change', 'turn' or 'phase', back (dir −1) or on (+1); null
 * where there is none. Back goes to the start of the turn or phase one is in, then the one
 * before (as a player's "previous" does); the session's start counts as the start of phase 0.
 */
export function stepTarget(timeline, n, what, dir) {
  if (what === 'change') {
    const to = n + dir;
    return to >= 1 && to <= timeline.times.length ? to : null;
  }
  const seqs = timeline.marks.filter((m) => m.cmd === STEP_MARKS[what]).map((m) => m.seq);
  if (what === 'phase') seqs.unshift(1);
  const to = dir > 0 ? seqs.find((s) => s > n) : [...seqs].reverse().find((s) => s < n);
  return to ?? null;
}

/** How long change n stays on the screen while playing at `speed`, before change n + 1. */
export function playWait(times, n, speed) {
  return Math.min((times[n] - times[n - 1]) / speed, LONGEST_PAUSE_MS);
}

// --- drawing -----------------------------------------------------------------------------------

/** The time axis: the first and last change, and x(ms) on 0…WIDTH. */
export function timeScale(timeline) {
  const t0 = timeline.times[0] ?? 0;
  const t1 = timeline.times.at(-1) ?? t0;
  const span = Math.max(1, t1 - t0);
  return { t0, t1, x: (ms) => Math.max(0, Math.min(WIDTH, ((ms - t0) / span) * WIDTH)) };
}

/** Moves every cursor line under `root` to x. */
export function placeCursors(root, x) {
  for (const line of root.querySelectorAll('.cursor')) {
    line.setAttribute('x1', x);
    line.setAttribute('x2', x);
  }
}

/** An SVG element (dom.js makes HTML ones). */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined && value !== false) el.setAttribute(key, String(value));
  }
  return append(el, children);
}

/** A time of day with seconds, "14:05:23", as the screen's language writes it. */
export function clockTime(millis) {
  return new Date(millis).toLocaleTimeString(lang(), { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

// --- the marks ---------------------------------------------------------------------------------

/** Each marked command's row on the timeline; anything else is one of the method's moments
 * (a check, a criterion, an experiment, a reflection) or the session's own (lock, end). */
const KIND = {
  set_phase: 'phase',
  give_floor: 'turn',
  end_turn: 'turn',
  turn_limit: 'turn',
  open_round: 'vote',
  close_round: 'vote',
  flag: 'report',
  confirm_flag: 'report',
  dismiss_flag: 'report',
};
const ROWS = ['phase', 'turn', 'vote', 'report', 'method'];
const ROW_HEIGHT = 10;

export function markKind(cmd) {
  return KIND[cmd] || 'method';
}

/** What happened at a mark, in words. */
export function markText(mark) {
  if (mark.cmd === 'set_phase') return t('mark.set_phase', { n: mark.phase, name: t(`phase.${mark.phase}`) });
  const key = `mark.${mark.cmd}`;
  return t(key) === key ? t('markOther') : t(key);
}

/** The marks as rows of ticks over the time axis, the phases as bands, and a cursor. */
function marksDrawing(timeline) {
  const { x, t0, t1 } = timeScale(timeline);
  const phases = [{ at: t0, phase: 0 }, ...timeline.marks.filter((m) => m.cmd === 'set_phase').map((m) => ({ at: m.at, phase: m.phase }))];
  const row = (kind) => ROWS.indexOf(kind) * ROW_HEIGHT;
  const count = (kind) => timeline.marks.filter((m) => markKind(m.cmd) === kind).length;
  return svg('svg', {
    class: 'marks', viewBox: `0 0 ${WIDTH} ${ROWS.length * ROW_HEIGHT}`, preserveAspectRatio: 'none', role: 'img',
    'aria-label': t('marksLabel', { phases: count('phase'), turns: timeline.marks.filter((m) => m.cmd === 'give_floor').length, votes: count('vote'), reports: count('report') }),
  },
  ROWS.map((kind) => svg('rect', { class: `row row-${kind}`, x: 0, y: row(kind), width: WIDTH, height: ROW_HEIGHT })),
  phases.map((p, i) => svg('rect', {
    class: `band band-${p.phase % 2 ? 'odd' : 'even'}`, 'data-phase': p.phase,
    x: x(p.at), y: 0, width: Math.max(1, x(phases[i + 1]?.at ?? t1) - x(p.at)), height: ROW_HEIGHT,
  })),
  timeline.marks.filter((m) => m.cmd !== 'set_phase').map((m) => svg('line', {
    class: `tick tick-${markKind(m.cmd)}`, 'data-seq': m.seq,
    x1: x(m.at), x2: x(m.at), y1: row(markKind(m.cmd)) + 1, y2: row(markKind(m.cmd)) + ROW_HEIGHT - 1,
  })),
  timeline.marks.filter((m) => m.cmd === 'set_phase').map((m) => svg('line', { class: 'tick tick-phase', x1: x(m.at), x2: x(m.at), y1: 0, y2: ROW_HEIGHT })),
  svg('line', { class: 'cursor', x1: 0, x2: 0, y1: 0, y2: ROWS.length * ROW_HEIGHT }));
}

function legend() {
  return h('ul', { class: 'marks-legend' }, ROWS.map((kind) => h('li', {},
    h('span', { class: `swatch swatch-${kind}`, 'aria-hidden': 'true' }),
    t(`markRow.${kind}`))));
}

// --- the panel ---------------------------------------------------------------------------------

/** Seconds from the first change to `ms`, as the slider counts. */
function secondOf(timeline, ms) {
  return Math.floor((ms - timeScale(timeline).t0) / 1000);
}

/** "Change 12 of 80 · 14:05:23 · 3:12 after the start". */
function positionText(timeline, n) {
  const at = timeline.times[n - 1];
  return t('positionText', { n, m: timeline.times.length, time: clockTime(at), since: duration(at - timeline.times[0]) });
}

/**
 * The timeline panel. options: { n (the change shown), speed, playing }. actions: go(n,
 * { fromSlider }), step(what, dir), play(), pause(), speed(s).
 */
export function renderTimeline(timeline, actions, { n = 1, speed = 1, playing = false } = {}) {
  const { t0, t1 } = timeScale(timeline);
  const stepButton = (what, dir) => h('button', {
    type: 'button', class: 'secondary step', id: `step-${dir < 0 ? 'back' : 'on'}-${what}`, 'data-key': `step-${dir}-${what}`,
    onclick: (event) => {
      if (event.currentTarget.getAttribute('aria-disabled') !== 'true') actions.step(what, dir);
    },
  },
  dir < 0 ? h('span', { 'aria-hidden': 'true' }, '‹') : null,
  t(`step.${dir < 0 ? 'back' : 'on'}.${what}`),
  dir > 0 ? h('span', { 'aria-hidden': 'true' }, '›') : null);
  const root = h('section', { class: 'panel timeline', id: 'timeline', 'aria-labelledby': 'timeline-heading' },
    h('h2', { id: 'timeline-heading' }, t('timelineHeading')),
    h('p', { class: 'position', id: 'position' }, positionText(timeline, n)),
    h('div', { class: 'scrub' },
      marksDrawing(timeline),
      h('label', { for: 'moment', class: 'scrub-label' }, t('momentLabel')),
      h('input', {
        type: 'range', id: 'moment', min: 0, max: Math.ceil((t1 - t0) / 1000), step: 1, value: secondOf(timeline, timeline.times[n - 1]),
        'aria-describedby': 'position',
        oninput: (event) => actions.go(changeAt(timeline.times, t0 + Number(event.target.value) * 1000 + 999), { fromSlider: true }),
      }),
      h('p', { class: 'scrub-ends', 'aria-hidden': 'true' }, h('span', {}, clockTime(t0)), h('span', {}, clockTime(t1)))),
    legend(),
    h('div', { class: 'steps', role: 'group', 'aria-label': t('stepsLabel') },
      ['change', 'turn', 'phase'].map((what) => h('div', { class: 'step-pair' }, stepButton(what, -1), stepButton(what, 1)))),
    h('div', { class: 'play-row' },
      h('button', {
        type: 'button', class: 'primary', id: 'play', 'data-key': 'play', 'aria-describedby': 'play-hint',
        onclick: (event) => (event.currentTarget.dataset.playing === 'true' ? actions.pause() : actions.play()),
      }, t('playButton')),
      h('fieldset', { class: 'speeds' },
        h('legend', {}, t('speedLegend')),
        SPEEDS.map((s) => h('span', { class: 'speed' },
          h('input', { type: 'radio', name: 'speed', id: `speed-${s}`, value: s, checked: s === speed, onchange: () => actions.speed(s) }),
          h('label', { for: `speed-${s}` }, `${s}×`))))),
    h('p', { class: 'hint', id: 'play-hint' }, t('playHint', { s: new Intl.NumberFormat(lang()).format(LONGEST_PAUSE_MS / 1000) })),
    timeline.marks.length ? h('details', { class: 'moments', id: 'moments' },
      h('summary', {}, t('momentsHeading', { n: timeline.marks.length })),
      h('ol', { class: 'moment-list' }, timeline.marks.map((m) => h('li', { class: `moment-${markKind(m.cmd)}` },
        h('button', {
          type: 'button', class: 'moment-button', 'data-seq': m.seq, 'data-key': `moment-${m.seq}`,
          onclick: () => actions.go(m.seq),
        }, h('span', { class: 'moment-time' }, clockTime(m.at)), ' ', markText(m)))))) : null);
  showPosition(root, timeline, { n, speed, playing });
  return root;
}

/**
 * Moves the panel to change n: the cursor, the time in words, the slider (not while the
 * slider itself moved: `fromSlider`), which steps lead anywhere, play or pause, the speed,
 * and the marked moment one is at.
 */
export function showPosition(root, timeline, { n, speed, playing }, { fromSlider = false } = {}) {
  const at = timeline.times[n - 1];
  placeCursors(root, timeScale(timeline).x(at));
  root.querySelector('#position').textContent = positionText(timeline, n);
  const slider = root.querySelector('#moment');
  if (!fromSlider) slider.value = String(secondOf(timeline, at));
  slider.setAttribute('aria-valuetext', `${clockTime(at)}, ${t('changeOf', { n, m: timeline.times.length })}`);
  for (const what of ['change', 'turn', 'phase']) {
    for (const dir of [-1, 1]) {
      const button = root.querySelector(`#step-${dir < 0 ? 'back' : 'on'}-${what}`);
      if (stepTarget(timeline, n, what, dir) === null) button.setAttribute('aria-disabled', 'true');
      else button.removeAttribute('aria-disabled');
    }
  }
  const play = root.querySelector('#play');
  play.dataset.playing = String(playing);
  play.textContent = playing ? t('pauseButton') : t('playButton');
  for (const input of root.querySelectorAll('input[name="speed"]')) input.checked = Number(input.value) === speed;
  const current = [...timeline.marks].reverse().find((m) => m.seq <= n);
  for (const button of root.querySelectorAll('.moment-button')) {
    if (current && Number(button.dataset.seq) === current.seq) button.setAttribute('aria-current', 'step');
    else button.removeAttribute('aria-current');
  }
}
