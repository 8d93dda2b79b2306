// Reflection panel, the console's side: a short look back, in any phase.
//
// - renderReflectionConsole: opening a reflection on the current phase; while it is open,
//   what people wrote as it comes in and closing it; earlier reflections folded away.
//
// Needs from the store: reflections, participants (names), session (phase, status). Render
// functions take (store, actions, options), see ui.js; with actions null the answers are only
// shown.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct } from '../ui.js';
import { all, openOne } from '../model.js';
import { reflectionEntries, reflectionTitle } from './reflection.js';

export function renderReflectionConsole(store, actions) {
  const act = canAct(store, actions);
  const open = openOne(store, 'reflections');
  const closed = all(store, 'reflections').filter((r) => r.stage === 'closed');
  return h('section', { class: 'panel reflection', id: 'reflection-console', 'aria-labelledby': 'reflection-heading' },
    h('h2', { id: 'reflection-heading' }, t('reflectionHeading')),
    open ? [
      h('h3', {}, reflectionTitle(open)),
      h('p', { class: 'progress-text', id: 'reflection-count', 'data-entries': open.entries.length }, t('reflectionCount', { n: open.entries.length })),
      reflectionEntries(store, open),
      act ? h('button', {
        type: 'button', class: 'primary', id: 'close-reflection', 'data-key': 'close-reflection',
        onclick: () => actions.send({ type: 'close_reflection', reflection: open.id }, t('reflectionClosed')),
      }, t('closeReflection')) : null,
    ] : [
      h('p', { class: 'hint' }, t('reflectionConsoleIntro')),
      act ? h('button', {
        type: 'button', class: 'secondary', id: 'open-reflection', 'data-key': 'open-reflection',
        onclick: () => actions.send({ type: 'open_reflection', phase: store.session.phase }, t('reflectionOpened')),
      }, t('openReflection', { n: store.session.phase })) : null,
    ],
    closed.length ? h('details', { class: 'other-phases' },
      h('summary', {}, t('earlierReflections', { n: closed.length })),
      closed.map((r) => h('div', { class: 'reflection-closed', 'data-reflection': r.id },
        h('h3', {}, reflectionTitle(r)),
        reflectionEntries(store, r)))) : null);
}
