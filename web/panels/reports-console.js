// Reports panel, the console's side: deciding on reported violations.
//
// - renderReports: every report, open ones first, with confirming (with a warning or a wait
//   for the hand, when the report is about someone) or dismissing.
//
// Needs from the store: reports, rules, participants (names), session (status). Render
// functions take (store, actions, options), see ui.js; with actions null there is nothing to
// press.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct, field, personName, showError } from '../ui.js';
import { ruleById, sortedReports, timeOfDay, HAND_WAIT_MINUTES } from '../model.js';

/**
 * Every report. options: { drafts (Map report id → { consequence: 'none' | 'warning' |
 * 'hand_wait', minutes }) }.
 */
export function renderReports(store, actions, { drafts = new Map() } = {}) {
  const list = sortedReports(store.reports);
  const open = list.filter((r) => r.status === 'open').length;
  return h('section', { class: 'panel reports', id: 'reports', 'aria-labelledby': 'reports-heading' },
    h('h2', { id: 'reports-heading' }, t('reportsHeading', { n: open })),
    list.length
      ? h('ul', { class: 'report-list', id: 'report-list' }, list.map((report) => reportItem(store, actions, report, drafts)))
      : h('p', { class: 'empty' }, t('noReports')));
}

function reportItem(store, actions, report, drafts) {
  const rule = ruleById(store.rules, report.rule);
  const textId = `report-${report.id}`;
  const draft = drafts.get(report.id) || { consequence: 'none', minutes: '5' };
  drafts.set(report.id, draft);
  const open = report.status === 'open' && canAct(store, actions);
  const consequenceText = report.consequence
    ? report.consequence.type === 'hand_wait' ? t('consequenceHandWaitDone', { n: report.consequence.minutes }) : t('consequenceWarningDone')
    : null;
  return h('li', { class: `report report-${report.status}`, 'data-report': report.id, 'data-status': report.status },
    h('p', { class: 'card-meta' },
      h('span', { class: `badge report-${report.status}` }, t(`reportStatusFac.${report.status}`)),
      h('span', {}, timeOfDay(report.at))),
    h('p', { class: 'report-rule', id: textId }, rule ? rule.text : t('ruleGone')),
    h('p', {}, report.about ? t('reportAbout', { name: personName(store, report.about) }) : t('reportAboutNobody')),
    report.note ? h('p', { class: 'report-note' }, report.note) : null,
    h('p', { class: 'hint' }, report.reporter ? t('reportBy', { name: personName(store, report.reporter) }) : t('reportAnonymous')),
    consequenceText ? h('p', {}, consequenceText) : null,
    open ? decision(actions, report, draft, textId) : null);
}

/** Confirm (with a consequence, when the report is about someone) or dismiss. */
function decision(actions, report, draft, textId) {
  const confirm = () => {
    const cmd = { type: 'confirm_flag', report: report.id };
    if (report.about && draft.consequence === 'warning') cmd.consequence = { type: 'warning' };
    if (report.about && draft.consequence === 'hand_wait') {
      const minutes = Number.parseInt(draft.minutes, 10);
      if (!(minutes >= HAND_WAIT_MINUTES.min && minutes <= HAND_WAIT_MINUTES.max)) {
        showError(t('numberRange', { min: HAND_WAIT_MINUTES.min, max: HAND_WAIT_MINUTES.max }));
        document.getElementById(`csq-min-${report.id}`)?.focus();
        return;
      }
      cmd.consequence = { type: 'hand_wait', minutes };
    }
    actions.send(cmd, t('reportConfirmed'));
  };
  return h('div', { class: 'report-actions' },
    report.about ? h('div', { class: 'row' },
      field({
        id: `csq-${report.id}`, label: t('consequenceLabel'),
        control: h('select', {
          'data-key': `csq-${report.id}`,
          onchange: (e) => {
            draft.consequence = e.target.value;
            // Only a wait for the hand asks for minutes.
            const minutes = document.getElementById(`csq-min-wrap-${report.id}`);
            if (minutes) minutes.hidden = draft.consequence !== 'hand_wait';
          },
        }, ['none', 'warning', 'hand_wait'].map((c) => h('option', { value: c, selected: c === draft.consequence }, t(`consequence.${c}`)))),
      }),
      h('div', { id: `csq-min-wrap-${report.id}`, class: 'field-wrap', hidden: draft.consequence !== 'hand_wait' },
        field({
          id: `csq-min-${report.id}`, label: t('minutesLabel'),
          control: h('input', {
            type: 'number', min: HAND_WAIT_MINUTES.min, max: HAND_WAIT_MINUTES.max, inputmode: 'numeric', value: draft.minutes,
            'data-key': `csq-min-${report.id}`, oninput: (e) => { draft.minutes = e.target.value; },
          }),
        }))) : null,
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'primary small', 'data-key': `confirm-${report.id}`, 'aria-describedby': textId, onclick: confirm }, t('confirmReport')),
      h('button', { type: 'button', class: 'secondary small', 'data-key': `dismiss-${report.id}`, 'aria-describedby': textId, onclick: () => actions.send({ type: 'dismiss_flag', report: report.id }, t('reportDismissed')) }, t('dismissReport'))));
}
