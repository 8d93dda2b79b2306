// Table panel, the console's side: keeping the list of who belongs at the table.
//
// - renderTableWarning: at the top of the console, while a needed or affected perspective has
//   nobody present ("no client at the table").
// - renderTableConsole: the coverage, the parties with listing a proposed one and taking one
//   off (or back on), adding one, and showing the coverage on the big screen.
// - displayToggle: "show on the big screen" for the table or the criteria.
//
// Needs from the store: parties, table, session (display, status). Render functions take
// (store, actions, options), see ui.js; with actions null there is nothing to press.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct, foldedForm } from '../ui.js';
import { all } from '../model.js';
import { coverageTable, missingText, partyForm, partyList } from './table.js';

/** The warning while someone needed or affected is missing; null while everyone is there. */
export function renderTableWarning(store) {
  const missing = missingText(store);
  if (!missing) return null;
  return h('section', { class: 'table-warning', id: 'table-warning', role: 'status', 'aria-labelledby': 'table-warning-heading' },
    h('h2', { id: 'table-warning-heading' }, t('tableWarningHeading')),
    missing.map((line) => h('p', {}, line)),
    h('p', { class: 'hint' }, t('tableWarningHint')));
}

/** A checkbox that shows `part` ('table' or 'criteria') on the big screen, or stops it. */
export function displayToggle(store, actions, part) {
  if (!canAct(store, actions)) return null;
  const id = `display-${part}`;
  const on = Boolean(store.session.display?.[part]);
  return h('div', { class: 'choice display-toggle' },
    h('input', {
      type: 'checkbox', id, 'data-key': id, checked: on,
      onchange: (e) => actions.send({ type: 'set_display', [part]: e.target.checked }, e.target.checked ? t('shownOnScreen') : t('hiddenFromScreen')),
    }),
    h('label', { for: id }, t('showOnScreen')));
}

/** options: { draft (the add form's) }. */
export function renderTableConsole(store, actions, { draft = {} } = {}) {
  const act = canAct(store, actions);
  const button = (p, key, text, status) => h('button', {
    type: 'button', class: 'secondary small', 'data-key': `${key}-${p.id}`, 'aria-describedby': `party-${p.id}`,
    onclick: () => actions.send({ type: 'update_party', party: p.id, status }, text),
  }, text);
  const removed = all(store, 'parties').filter((p) => p.status === 'removed');
  return h('section', { class: 'panel table-panel', id: 'table-console', 'aria-labelledby': 'table-heading' },
    h('h2', { id: 'table-heading' }, t('tableHeading')),
    h('p', { class: 'hint' }, t('tableConsoleIntro')),
    coverageTable(store),
    displayToggle(store, actions, 'table'),
    h('h3', {}, t('partiesHeading')),
    partyList(store, (p) => (act ? h('div', { class: 'card-actions' },
      p.status === 'proposed' ? button(p, 'list', t('listParty'), 'listed') : null,
      button(p, 'remove', t('removeButton'), 'removed')) : null)),
    removed.length ? h('details', { class: 'other-phases' },
      h('summary', {}, t('removedParties', { n: removed.length })),
      h('ul', { class: 'party-list' }, removed.map((p) => h('li', { class: 'party party-removed', 'data-party': p.id },
        h('p', { class: 'party-name', id: `party-${p.id}`, dir: 'auto' }, p.name),
        act ? button(p, 'relist', t('restoreButton'), 'listed') : null)))) : null,
    act ? foldedForm(draft, t('addParty'), partyForm(store, actions, { draft, ids: 'fparty', heading: false })) : null);
}
