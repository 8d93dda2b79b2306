// Reports panel: reported violations of the ground rules and what came of them.
//
// - renderWarnings (phone): banners for one's own confirmed violations that came with a
//   consequence, each to be closed once read.
// - reportOpener, renderReportForm (phone): the button that opens the report form, and the
//   form (which rule, about whom, a note, anonymously or not).
// - myReports (phone, under the rules): the reports one made and where they stand.
// The console's side (deciding on reports) is in reports-console.js, so a phone does not load
// it.
//
// Needs from the store: rules, participants (names), you (one's warnings and reports),
// session (status). Render functions take (store, actions, options), see
// ui.js; with actions null there is nothing to press.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { announce, canAct, countedField, errorText, field } from '../ui.js';
import { charCount, ruleById, shorten, warningKey, NOTE_MAX } from '../model.js';

/**
 * One's warnings, but for those closed on this device. options: { closed (Set of warning
 * keys) }. actions: closeWarning(key) (remembers it and draws the screen again).
 */
export function renderWarnings(store, actions, { closed = new Set() } = {}) {
  const warnings = (store.you?.floor?.warnings || []).filter((w) => !closed.has(warningKey(w)));
  if (!warnings.length) return null;
  return h('div', { class: 'warnings', id: 'warnings' }, warnings.map((w) => {
    const key = warningKey(w);
    const textId = `warning-${key.replace(/[^A-Za-z0-9-]/g, '-')}`;
    const rule = ruleById(store.rules, w.rule);
    return h('section', { class: 'warning', 'data-rule': w.rule, 'aria-labelledby': `${textId}-title` },
      h('h2', { class: 'warning-title', id: `${textId}-title` }, t('warningTitle')),
      h('p', { id: textId }, rule ? t('warningRule', { rule: rule.text }) : t('warningNoRule')),
      w.hand_wait_minutes ? h('p', {}, t('warningHandWait', { n: w.hand_wait_minutes })) : null,
      actions ? h('button', {
        type: 'button', class: 'secondary small', 'data-key': `close-${textId}`, 'aria-describedby': textId,
        onclick: () => actions.closeWarning(key),
      }, t('closeWarning')) : null);
  }));
}

/** "Was a rule broken?" with the button that opens the report form (actions.openFlag). */
export function reportOpener(actions) {
  return h('div', { class: 'flag-open-wrap' },
    h('p', { class: 'hint', id: 'flag-open-hint' }, t('flagHint')),
    h('button', {
      type: 'button', class: 'secondary', id: 'flag-open', 'data-key': 'flag-open', 'aria-describedby': 'flag-open-hint',
      onclick: actions.openFlag,
    }, t('flagOpen')));
}

/** The reports one made, and whether they were confirmed. */
export function myReports(store) {
  const reports = store.you?.floor?.reports || [];
  if (!reports.length) return null;
  return h('div', { class: 'my-reports' },
    h('h3', {}, t('myReportsHeading')),
    h('ul', { class: 'my-reports-list', id: 'my-reports' }, reports.map((r) => h('li', { 'data-report': r.id, 'data-status': r.status },
      h('span', { class: 'rule-text' }, ruleById(store.rules, r.rule)?.text ?? t('ruleGone')),
      ' ',
      h('span', { class: `badge report-${r.status}` }, t(`reportStatus.${r.status}`))))));
}

/**
 * The report form. options: { draft: { rule, about, note, anonymous, error, busy } }.
 * actions: attempt(cmd) (sends; rejects with the refusal, so the form can say why), latest()
 * (the store now), rebuild() (builds the form again: busy, or an error to show), close()
 * (closes it and gives focus back to the button that opened it).
 */
export function renderReportForm(store, actions, { draft }) {
  if (!canAct(store, actions)) return null;
  const rules = store.rules?.rules || [];
  const others = [...store.participants.values()].filter((p) => p.id !== store.you?.id);
  return h('form', { class: 'panel flag-form', id: 'flag-form', novalidate: true, onsubmit: (event) => onReport(event, actions, draft), 'aria-labelledby': 'flag-heading' },
    h('h2', { id: 'flag-heading' }, t('flagHeading')),
    h('p', { class: 'hint' }, t('flagWhoSees')),
    draft.error ? h('p', { class: 'error-text', id: 'flag-error', role: 'alert' }, draft.error) : null,
    field({
      id: 'flag-rule', label: t('flagRuleLabel'),
      control: h('select', { onchange: (e) => { draft.rule = e.target.value; } },
        rules.map((r) => h('option', { value: r.id, selected: r.id === draft.rule }, shorten(r.text)))),
    }),
    field({
      id: 'flag-about', label: t('flagAboutLabel'),
      control: h('select', { onchange: (e) => { draft.about = e.target.value; } },
        h('option', { value: '', selected: !draft.about }, t('flagAboutNobody')),
        others.map((p) => h('option', { value: p.id, selected: p.id === draft.about },
          p.role === 'facilitator' ? `${p.name} (${t('facilitatorRole')})` : p.name))),
    }),
    countedField({ id: 'flag-note', label: t('flagNoteLabel'), max: NOTE_MAX, value: draft.note, attrs: { rows: 3 }, onInput: (value) => { draft.note = value; } }),
    h('div', { class: 'choice' },
      h('input', { type: 'checkbox', id: 'flag-anonymous', checked: draft.anonymous, onchange: (e) => { draft.anonymous = e.target.checked; } }),
      h('label', { for: 'flag-anonymous' }, t('flagAnonymousLabel'))),
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'primary', id: 'flag-send', 'aria-disabled': draft.busy ? 'true' : null }, draft.busy ? t('sending') : t('flagSend')),
      h('button', { type: 'button', class: 'secondary', id: 'flag-cancel', onclick: actions.close }, t('cancelButton'))));
}

async function onReport(event, actions, draft) {
  event.preventDefault();
  if (draft.busy) return;
  const rules = actions.latest().rules?.rules || [];
  const rule = draft.rule || rules[0]?.id;
  if (!rule) return;
  const note = draft.note.trim();
  if (charCount(note) > NOTE_MAX) {
    draft.error = t('noteTooLong', { max: NOTE_MAX });
    actions.rebuild();
    document.getElementById('flag-note')?.focus();
    return;
  }
  const cmd = { type: 'flag', rule, anonymous: draft.anonymous };
  if (draft.about) cmd.about = draft.about;
  if (note) cmd.note = note;
  draft.busy = true;
  draft.error = null;
  actions.rebuild();
  try {
    await actions.attempt(cmd);
    draft.busy = false;
    announce(t('flagSent'));
    actions.close();
  } catch (err) {
    // The form stays open with what was typed, and says why in plain words.
    draft.busy = false;
    draft.error = errorText(err);
    actions.rebuild();
    document.getElementById('flag-send')?.focus();
  }
}

