// Balance panel: how evenly the floor was shared.
//
// - renderBalance (console): the balance figure in numbers and words, who had the largest
//   share, how many have not spoken yet, and tables per person and per perspective.
// - balanceSummary (projector, inside the floor board): the figure and how many have not
//   spoken yet, while the facilitator shows the balance.
// - balanceLine, perspectiveTable (the report too): the figure in words, the table per
//   perspective; table and num: a labelled table that scrolls sideways on a narrow screen.
//
// Needs from the store: floor.balance (the facilitator sees it whole, the projector without
// the per-person list), participants (names). Nothing to press: actions are not used.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { figureText, figureWords, personName } from '../ui.js';
import { duration, percent } from '../model.js';

/** The figure ("0,82") and its words ("evenly shared"); `ids` for the console's tests and labels. */
export function balanceLine(balance, ids) {
  return h('p', { class: 'balance-line' },
    h('span', { class: 'balance-figure', id: ids ? 'balance-figure' : null, 'data-value': ids ? balance.figure ?? '' : null }, figureText(balance.figure)),
    h('span', { class: 'balance-word', id: ids ? 'balance-word' : null }, figureWords(balance.figure)));
}

/** "Everyone has spoken", or how many of how many have not. */
function silentText(balance) {
  if (!balance.people) return t('balanceNobody');
  return balance.silent === 0 ? t('allSpoke') : t('silentCount', { n: balance.silent, m: balance.people });
}

/** The balance on the projector's floor board. */
export function balanceSummary(balance) {
  return h('div', { class: 'floor-balance', id: 'projector-balance', 'data-value': balance.figure ?? '' },
    h('h3', { class: 'label' }, t('balanceHeading')),
    balanceLine(balance, false),
    balance.people ? h('p', {}, silentText(balance)) : null);
}

/** The console's balance section. */
export function renderBalance(store) {
  const balance = store.floor?.balance;
  if (!balance) return null;
  // Lists the server leaves out when empty.
  const people = [...(balance.per_person || [])].sort((a, b) => b.floor_ms - a.floor_ms || b.turns - a.turns);
  const perspectives = balance.per_perspective || [];
  const top = people.find((p) => p.floor_ms > 0);
  return h('section', { class: 'panel balance', id: 'balance', 'aria-labelledby': 'balance-heading' },
    h('h2', { id: 'balance-heading' }, t('balanceHeading')),
    balanceLine(balance, true),
    h('p', { class: 'hint' }, t('balanceExplain')),
    balance.top_share !== undefined && balance.top_share !== null && top
      ? h('p', { id: 'balance-top' }, t('topShare', { name: personName(store, top.participant), pct: percent(balance.top_share) }))
      : null,
    h('p', { id: 'balance-silent', 'data-silent': balance.silent }, silentText(balance)),
    people.length ? table('balance-people', t('perPersonHeading'),
      [t('colName'), t('colPerspective'), num(t('colFloorTime')), num(t('colTurns')), num(t('colViolations'))],
      people.map((p) => {
        const person = store.participants.get(p.participant);
        return h('tr', { 'data-participant': p.participant },
          h('th', { scope: 'row' }, person?.name ?? t('someone')),
          h('td', {}, person ? t(`perspective.${person.perspective}`) : ''),
          h('td', { class: 'num' }, duration(p.floor_ms)),
          h('td', { class: 'num' }, String(p.turns)),
          h('td', { class: 'num' }, String(p.violations)));
      })) : null,
    perspectiveTable(perspectives, 'balance-perspectives'));
}

/** Floor time and turns per perspective, with each one's share, as a table (or null). */
export function perspectiveTable(perspectives, id) {
  if (!perspectives.length) return null;
  const total = perspectives.reduce((sum, p) => sum + p.floor_ms, 0);
  const people = perspectives.reduce((sum, p) => sum + p.people, 0);
  // Presence share beside floor share: a perspective far behind is marked (the server says).
  return table(id, t('perPerspectiveHeading'),
    [t('colPerspective'), num(t('colPeople')), num(t('colPresentShare')), num(t('colShare')), num(t('colFloorTime')), num(t('colTurns'))],
    perspectives.map((p) => h('tr', { 'data-perspective': p.perspective, 'data-behind': p.behind ? 'true' : null, class: p.behind ? 'behind' : null },
      h('th', { scope: 'row' }, t(`perspective.${p.perspective}`), p.behind ? h('span', { class: 'badge behind-badge' }, t('behindBadge')) : null),
      h('td', { class: 'num' }, String(p.people)),
      h('td', { class: 'num' }, people > 0 ? `${percent(p.people / people)}%` : '–'),
      h('td', { class: 'num' }, total > 0 ? `${percent(p.floor_ms / total)}%` : '–'),
      h('td', { class: 'num' }, duration(p.floor_ms)),
      h('td', { class: 'num' }, String(p.turns)))));
}

/** A column heading for numbers (right-aligned). */
export function num(text) {
  return { text, num: true };
}

/** A table in a scrollable, labelled region (a narrow screen scrolls it sideways); columns are
 * texts or num(text). */
export function table(id, caption, columns, rows) {
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': `${id}-caption` },
    h('table', { class: 'floor-table', id },
      h('caption', { id: `${id}-caption` }, caption),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.text ?? c)))),
      h('tbody', {}, rows)));
}
