// Table panel: who is at the table. The parties (a group or a role, with its perspective)
// needed for the change or affected by it, against who is present now.
//
// - coverageTable (console, projector): per perspective, how many are present against the
//   parties listed for it, and whether they are needed or affected.
// - missingText: "no client at the table", for each needed or affected perspective with
//   nobody present.
// - partyList, partyForm: the parties, and proposing one (the phone's and the console's).
// - renderTablePhone (phone): the parties, and proposing one.
// - renderTableBoard (projector, when the facilitator shows it): the coverage in large type.
// The console's side (the warning, listing and removing parties, the big screen) is in
// table-console.js. A phone loads this module only when the person opens it.
//
// Needs from the store: parties, table, session (display, status). Render functions take
// (store, actions, options), see ui.js; with actions null there is nothing to press.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct, clearFields, field, showError, textWithin } from '../ui.js';
import { listedParties, missingPerspectives, PERSPECTIVES, STAKES, PARTY_MAX, MAX_PARTIES, all } from '../model.js';

/** A perspective's name in running text ("cliënt"). */
function perspectiveWord(p) {
  return t(`perspective.${p}`).toLowerCase();
}

/** One sentence per needed or affected perspective with nobody present, or null. */
export function missingText(store) {
  const missing = missingPerspectives(store);
  if (!missing.length) return null;
  return missing.map((p) => t('missingAtTable', { who: perspectiveWord(p) }));
}

/** The coverage per perspective as a table. */
export function coverageTable(store, { id = 'coverage' } = {}) {
  const rows = store.table?.coverage || [];
  if (!rows.length) return h('p', { class: 'empty' }, t('noParties'));
  const missing = new Set(missingPerspectives(store));
  // Focusable, so a keyboard can scroll it on a narrow screen.
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-labelledby': `${id}-caption` },
    h('table', { class: 'floor-table coverage', id },
      h('caption', { id: `${id}-caption` }, t('coverageCaption')),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('colPerspective')),
        h('th', { scope: 'col', class: 'num' }, t('colPresent')),
        h('th', { scope: 'col', class: 'num' }, t('colParties')),
        h('th', { scope: 'col' }, t('colStake')))),
      h('tbody', {}, rows.map((row) => h('tr', { class: missing.has(row.perspective) ? 'missing' : null, 'data-perspective': row.perspective, 'data-present': row.present },
        h('th', { scope: 'row' }, t(`perspective.${row.perspective}`)),
        h('td', { class: 'num' }, missing.has(row.perspective) ? h('strong', {}, t('nobodyPresent')) : String(row.present)),
        h('td', { class: 'num' }, String(row.parties)),
        h('td', {}, stakeWords(row)))))));
}

function stakeWords(row) {
  if (row.needed && row.affected) return t('stake.both');
  if (row.needed) return t('stake.needed');
  if (row.affected) return t('stake.affected');
  return '–';
}

/** The parties not taken off the list; each row gets what `more(party)` adds. */
export function partyList(store, more = () => null) {
  const parties = listedParties(store);
  if (!parties.length) return h('p', { class: 'empty' }, t('noParties'));
  return h('ul', { class: 'party-list', id: 'party-list' }, parties.map((p) => h('li', { class: `party party-${p.status}`, 'data-party': p.id, 'data-status': p.status },
    h('p', { class: 'party-name', id: `party-${p.id}`, dir: 'auto' }, p.name),
    h('p', { class: 'party-meta' },
      h('span', {}, t(`perspective.${p.perspective}`)),
      h('span', {}, t(`stake.${p.stake}`)),
      p.status === 'proposed' ? h('span', { class: 'badge' }, t('partyProposed')) : null),
    more(p))));
}

/**
 * Proposing a party: its name, perspective and stake. options: { draft: { name, perspective,
 * stake } }, ids prefixed with `ids`, `heading`: with its own heading. A facilitator's party is
 * listed at once.
 */
export function partyForm(store, actions, { draft, ids = 'party', heading = true }) {
  const onAdd = (event) => {
    event.preventDefault();
    const name = textWithin(draft.name, { max: PARTY_MAX, message: t('partyNameLength', { max: PARTY_MAX }) });
    if (name === null) return undefined;
    if (all(store, 'parties').length >= MAX_PARTIES) return showError(t('tooMany', { max: MAX_PARTIES }));
    const cmd = { type: 'propose_party', name, perspective: draft.perspective || 'client', stake: draft.stake || 'both' };
    actions.send(cmd, store.role === 'facilitator' ? t('partyListed') : t('partySent')).then((result) => {
      if (result) clearFields(draft, ids, ['name']);
    });
    return undefined;
  };
  const select = (key, values, word) => h('select', { onchange: (e) => { draft[key] = e.target.value; } },
    values.map((v) => h('option', { value: v, selected: v === draft[key] }, word(v))));
  return h('form', { class: 'party-form', id: `${ids}-form`, novalidate: true, onsubmit: onAdd },
    heading ? h('h3', {}, t('proposeParty')) : null,
    field({
      id: `${ids}-name`, label: t('partyNameLabel'), hint: t('partyNameHint'),
      control: h('input', { type: 'text', maxlength: PARTY_MAX, value: draft.name || '', dir: 'auto', oninput: (e) => { draft.name = e.target.value; } }),
    }),
    h('div', { class: 'row' },
      field({ id: `${ids}-perspective`, label: t('partyPerspective'), control: select('perspective', PERSPECTIVES, (v) => t(`perspective.${v}`)) }),
      field({ id: `${ids}-stake`, label: t('partyStake'), control: select('stake', ['both', ...STAKES.filter((s) => s !== 'both')], (v) => t(`stake.${v}`)) })),
    h('button', { type: 'submit', class: store.role === 'facilitator' ? 'secondary' : 'primary', id: `${ids}-add` },
      store.role === 'facilitator' ? t('addPartyButton') : t('proposePartyButton')));
}

// --- the phone -----------------------------------------------------------------------------------

/** The parties and proposing one. options: { draft (the form's), titled (with a heading) }. */
export function renderTablePhone(store, actions, { draft, titled = true }) {
  return h('section', { class: 'panel table-panel', id: 'table-panel', 'aria-labelledby': 'table-heading' },
    h('h2', { id: 'table-heading', class: titled ? null : 'sr-only' }, t('tableHeading')),
    h('p', { class: 'hint' }, t('tableIntro')),
    partyList(store),
    canAct(store, actions) ? partyForm(store, actions, { draft, ids: 'party' }) : null);
}

// --- the projector -------------------------------------------------------------------------------

/** The coverage on the big screen, while the facilitator shows it: one line per perspective
 * (a projector cannot scroll a table sideways). */
export function renderTableBoard(store) {
  if (!store.session.display?.table) return null;
  const rows = store.table?.coverage || [];
  const missing = new Set(missingPerspectives(store));
  return h('section', { class: 'round-panel table-board', id: 'table-board', 'aria-labelledby': 'table-heading' },
    h('h2', { id: 'table-heading' }, t('tableHeading')),
    rows.length ? h('ul', { class: 'coverage-list', id: 'board-coverage' }, rows.map((row) => h('li', {
      class: missing.has(row.perspective) ? 'missing' : null, 'data-perspective': row.perspective, 'data-present': row.present,
    },
    h('span', { class: 'coverage-who' }, t(`perspective.${row.perspective}`)),
    h('span', { class: 'coverage-present' }, missing.has(row.perspective) ? t('missingAtTable', { who: perspectiveWord(row.perspective) }) : t('presentCount', { n: row.present })),
    row.parties ? h('span', { class: 'coverage-stake' }, stakeWords(row)) : null))) : h('p', { class: 'empty' }, t('noParties')));
}
