// Lessons panel (phase 5): the lessons the group drew, each about an experiment, a phase or
// the session as a whole; from what worked and from what did not, side by side. Read-only:
// lessons are cards, added on the phones.
//
// - renderLessons (console, projector): the lessons grouped by what they are about.
//
// Needs from the store: cards (lessons), experiments (titles). Nothing to press: actions are
// not used.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { all, lessonKey, PHASES } from '../model.js';
import { lessonAbout } from './cards.js';

/** options: { big (the projector's large type) }. */
export function renderLessons(store, actions, { big = false } = {}) {
  const lessons = [...store.cards.values()].filter((c) => c.kind === 'lesson' && c.status === 'visible');
  const keys = [
    'session',
    ...all(store, 'experiments').map((e) => `experiment:${e.id}`),
    ...PHASES.map((n) => `phase:${n}`),
  ];
  const groups = keys.map((key) => ({ key, cards: lessons.filter((c) => lessonKey(c.lesson_of) === key) })).filter((g) => g.cards.length);
  return h('section', { class: big ? 'round-panel lessons big' : 'panel lessons', id: 'lessons', 'aria-labelledby': 'lessons-heading' },
    h('h2', { id: 'lessons-heading' }, t('lessonsHeading')),
    groups.length
      ? groups.map(({ key, cards }) => h('div', { class: 'lesson-group', 'data-about': key },
        h('h3', {}, lessonAbout(store, cards[0].lesson_of)),
        h('ul', { class: 'lesson-list' }, cards.map((c) => h('li', { 'data-card': c.id, dir: 'auto' }, c.text ?? '')))))
      : h('p', { class: 'empty' }, t('noLessons')));
}
