// Criteria panel: when the group will be satisfied. Proposed by anyone, agreed by the group
// in a consent round the facilitator closes, plain or measurable (a target with a unit), and
// assessed in phase 5: met, partly, not met.
//
// - criterionItem (every screen): a criterion, its target, where it stands, the consent
//   counts (never names) and its assessment.
// - criterionForm: proposing one (the phone's and the console's).
// - renderConsentAsk (phone): each criterion the group is asked about, with "I agree" and
//   "I object" (one's answer may change while the round is open).
// - renderCriteriaPhone (phone): the agreed criteria (assessed, in phase 5), those still
//   proposed, and proposing one.
// - renderCriteriaBoard (projector, when the facilitator shows them): the criteria in large type.
// The console's side (asking the group, deciding, assessing) is in criteria-console.js. A
// phone loads this module only when the group is asked or the person opens it.
//
// Needs from the store: criteria, you.consents, session (phase, display, status). Render
// functions take (store, actions, options), see ui.js; with actions null there is nothing to
// press.

import { h } from '../dom.js';
import { t, lang } from '../i18n.js';
import { canAct, clearFields, field, sendAndRefresh, showError, textWithin } from '../ui.js';
import { all, criteriaByStatus, yours, CRITERION_MAX, UNIT_MAX, MAX_CRITERIA } from '../model.js';

/** A target in the screen's language: "20 %", "3,5 dagen". */
function targetText(c) {
  const number = new Intl.NumberFormat(lang(), { maximumFractionDigits: 2 }).format(c.target);
  return t('targetValue', { target: number, unit: c.unit });
}

/**
 * One criterion: its text and target, then `status` (a badge of where it stands), the consent
 * counts once asked (unless `counts` is false), the assessment once made, and what `more` adds.
 */
export function criterionItem(c, { status = true, counts = true, more = null } = {}) {
  return h('li', { class: `criterion criterion-${c.status}`, 'data-criterion': c.id, 'data-status': c.status, 'data-assessment': c.assessment || null },
    h('p', { class: 'criterion-text', id: `criterion-${c.id}`, dir: 'auto' }, c.text),
    h('p', { class: 'criterion-meta' },
      c.target !== undefined && c.target !== null ? h('span', { class: 'criterion-target' }, targetText(c)) : null,
      status ? h('span', { class: 'badge' }, t(`criterionStatus.${c.status}`)) : null,
      counts && c.consent && c.status !== 'proposed' ? h('span', { class: 'consent-counts', 'data-agree': c.consent.agree, 'data-object': c.consent.object },
        t('consentCounts', { agree: c.consent.agree, object: c.consent.object })) : null),
    c.assessment ? h('p', { class: `assessment assessment-${c.assessment}` },
      h('span', { class: 'badge assessment-badge' }, t(`assessment.${c.assessment}`)),
      c.assessment_note ? h('span', { class: 'assessment-note', dir: 'auto' }, c.assessment_note) : null) : null,
    more);
}

/**
 * Proposing a criterion: its text, and for a measurable one a target and its unit. options:
 * { draft: { text, target, unit }, ids, heading (with its own heading) }.
 */
export function criterionForm(store, actions, { draft, ids = 'criterion', heading = true }) {
  const onAdd = (event) => {
    event.preventDefault();
    const text = textWithin(draft.text, { max: CRITERION_MAX, message: t('criterionLength', { max: CRITERION_MAX }) });
    const unit = text === null ? null : textWithin(draft.unit, { min: 0, max: UNIT_MAX, message: t('unitLength', { max: UNIT_MAX }) });
    if (unit === null) return undefined;
    const targetRaw = String(draft.target ?? '').trim().replace(',', '.');
    if (Boolean(targetRaw) !== Boolean(unit)) return showError(t('targetAndUnit'));
    const target = targetRaw ? Number(targetRaw) : null;
    if (targetRaw && !Number.isFinite(target)) return showError(t('targetNumber'));
    if (all(store, 'criteria').length >= MAX_CRITERIA) return showError(t('tooMany', { max: MAX_CRITERIA }));
    const cmd = { type: 'propose_criterion', text };
    if (targetRaw) Object.assign(cmd, { target, unit });
    actions.send(cmd, t('criterionSent')).then((result) => {
      if (result) clearFields(draft, ids, ['text', 'target', 'unit']);
    });
    return undefined;
  };
  const input = (part, attrs) => h('input', { ...attrs, value: draft[part] || '', oninput: (e) => { draft[part] = e.target.value; } });
  return h('form', { class: 'criterion-form', id: `${ids}-form`, novalidate: true, onsubmit: onAdd },
    heading ? h('h3', {}, t('proposeCriterion')) : null,
    field({
      id: `${ids}-text`, label: t('criterionLabel'), hint: t('criterionHint'),
      control: h('textarea', { rows: 2, maxlength: CRITERION_MAX, dir: 'auto', value: draft.text || '', oninput: (e) => { draft.text = e.target.value; } }),
    }),
    h('p', { class: 'hint' }, t('targetHint')),
    h('div', { class: 'row' },
      field({ id: `${ids}-target`, label: t('targetLabel'), control: input('target', { type: 'text', inputmode: 'decimal' }) }),
      field({ id: `${ids}-unit`, label: t('unitLabel'), control: input('unit', { type: 'text', maxlength: UNIT_MAX, dir: 'auto' }) })),
    h('button', { type: 'submit', class: store.role === 'facilitator' ? 'secondary' : 'primary', id: `${ids}-add` }, t('proposeCriterionButton')));
}

// --- the phone -----------------------------------------------------------------------------------

/** Each criterion the group is asked about now, with agreeing and objecting. */
export function renderConsentAsk(store, actions) {
  const asked = criteriaByStatus(store, 'asked');
  if (!asked.length) return null;
  const act = canAct(store, actions);
  return h('section', { class: 'panel consent ask', id: 'consent', 'aria-labelledby': 'consent-heading' },
    h('h2', { id: 'consent-heading' }, t('consentHeading')),
    h('p', {}, t('consentIntro')),
    h('ul', { class: 'criteria' }, asked.map((c) => {
      const mine = yours(store, 'consents', 'criterion', c.id);
      const button = (agree, text) => h('button', {
        type: 'button', class: mine && mine.agree === agree ? 'primary' : 'secondary',
        'data-key': `${agree ? 'agree' : 'object'}-${c.id}`, 'aria-pressed': String(Boolean(mine) && mine.agree === agree),
        'aria-describedby': `criterion-${c.id}`,
        onclick: () => sendAndRefresh(actions, { type: 'consent', criterion: c.id, agree }, agree ? t('consentAgreed') : t('consentObjected')),
      }, text);
      // No counts while the group is asked: each answers for themselves.
      return criterionItem(c, {
        status: false,
        counts: false,
        more: act ? [
          h('div', { class: 'answer-buttons' }, button(true, t('consentAgree')), button(false, t('consentObject'))),
          mine ? h('p', { class: 'chosen-line' }, mine.agree ? t('consentAgreed') : t('consentObjected')) : null,
        ] : null,
      });
    })));
}

/**
 * The criteria on a phone: agreed ones (with their assessment in phase 5), the proposed ones,
 * and proposing one. options: { draft (the form's), titled (with a heading) }.
 */
export function renderCriteriaPhone(store, actions, { draft, titled = true }) {
  const agreed = criteriaByStatus(store, 'agreed');
  const proposed = criteriaByStatus(store, 'proposed');
  return h('section', { class: 'panel criteria-panel', id: 'criteria-panel', 'aria-labelledby': 'criteria-heading' },
    h('h2', { id: 'criteria-heading', class: titled ? null : 'sr-only' }, t('criteriaHeading')),
    h('p', { class: 'hint' }, store.session.phase === 5 ? t('criteriaResultIntro') : t('criteriaIntro')),
    agreed.length ? h('ul', { class: 'criteria', id: 'criteria-agreed' }, agreed.map((c) => criterionItem(c, { status: false, counts: false })))
      : h('p', { class: 'empty' }, t('noCriteria')),
    proposed.length ? [h('h3', {}, t('criteriaProposed')), h('ul', { class: 'criteria' }, proposed.map((c) => criterionItem(c)))] : null,
    canAct(store, actions) && store.session.phase < 5 ? criterionForm(store, actions, { draft, ids: 'criterion' }) : null);
}

// --- the projector -------------------------------------------------------------------------------

/** The agreed criteria, and those the group is asked about, while the facilitator shows them. */
export function renderCriteriaBoard(store) {
  if (!store.session.display?.criteria) return null;
  const shown = all(store, 'criteria').filter((c) => c.status === 'agreed' || c.status === 'asked');
  return h('section', { class: 'round-panel criteria-board', id: 'criteria-board', 'aria-labelledby': 'criteria-heading' },
    h('h2', { id: 'criteria-heading' }, t('criteriaHeading')),
    shown.length ? h('ul', { class: 'criteria big' }, shown.map((c) => criterionItem(c, { status: c.status === 'asked', counts: c.status === 'asked' })))
      : h('p', { class: 'empty' }, t('noCriteria')));
}
