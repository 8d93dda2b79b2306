// Ground rules panel.
//
// - renderRules (phone): the rules with how often each was broken, agreeing or not, the way
//   to report a broken rule, and one's own reports.
// - renderRulesReminder (phone): a small reminder near the top while the rules are not
//   answered, with a link down to them.
// - renderRulesTally (console): how many agreed and did not.
// - renderRulesEditor (console): changing, removing and adding rules.
//
// Needs from the store: rules, you (one's answer and reports), session (status). Render
// functions take (store, actions, options), see ui.js; with actions null the rules are only
// listed.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct, field, sendAndRefresh, showError } from '../ui.js';
import { charCount, isEnded, RULE_MAX } from '../model.js';
import { myReports, reportOpener } from './reports.js';

/** "Broken once", "broken 3 times", or null while never broken. */
function violationsBadge(rule, className) {
  if (!rule.violations) return null;
  return h('span', { class: className }, rule.violations === 1 ? t('brokenOnce') : t('brokenTimes', { n: rule.violations }));
}

/** The rules as a numbered list. */
function rulesList(rules) {
  return h('ol', { class: 'rules-list', id: 'rules-list' }, rules.rules.map((rule) => h('li', { 'data-rule': rule.id },
    h('span', { class: 'rule-text' }, rule.text),
    violationsBadge(rule, 'badge rule-count'))));
}

// --- the phone -----------------------------------------------------------------------------------

/**
 * The ground rules for a participant. options: { prominent (in phase 0, or while unanswered:
 * with an introduction), flagOpen (the report form is open: no button to open it) }.
 * actions: send, refresh, openFlag().
 */
export function renderRules(store, actions, { prominent = false, flagOpen = false } = {}) {
  const rules = store.rules;
  if (!rules?.rules?.length) return null;
  const agreed = store.you?.floor?.agreed;
  const answered = agreed === true || agreed === false;
  const act = canAct(store, actions);
  let answer = t('rulesQuestion');
  if (agreed === true) answer = t('rulesAgreed');
  if (agreed === false) answer = t('rulesDisagreed');
  const answerButton = (agree, id, text) => h('button', {
    type: 'button', class: agreed === agree ? 'primary' : 'secondary', id, 'data-key': id,
    'aria-pressed': String(agreed === agree),
    onclick: () => sendAndRefresh(actions, { type: 'agree_rules', agree }, agree ? t('rulesAgreed') : t('rulesDisagreed')),
  }, text);
  return h('section', { class: prominent ? 'panel rules prominent' : 'panel rules', id: 'rules', 'aria-labelledby': 'rules-heading' },
    h('h2', { id: 'rules-heading', tabindex: '-1' }, t('rulesHeading')),
    prominent ? h('p', {}, t('rulesIntro')) : null,
    rulesList(rules),
    act ? h('p', { class: answered ? 'rules-answer' : 'rules-answer open', id: 'rules-answer' }, answer) : null,
    act ? h('div', { class: 'answer-buttons', role: 'group', 'aria-labelledby': 'rules-answer' },
      answerButton(true, 'rules-agree', t('agreeButton')),
      answerButton(false, 'rules-disagree', t('disagreeButton'))) : null,
    act && !flagOpen ? reportOpener(actions) : null,
    myReports(store));
}

/**
 * "You have not answered the ground rules yet", with a link that takes focus to them. A nudge
 * for a live phone only: nothing read-only.
 */
export function renderRulesReminder(store, actions) {
  if (!actions) return null;
  return h('p', { class: 'rules-reminder', id: 'rules-reminder' },
    t('rulesReminder'), ' ',
    h('a', {
      href: '#rules',
      onclick: (event) => {
        event.preventDefault();
        const heading = document.getElementById('rules-heading');
        heading?.scrollIntoView({ block: 'start' });
        heading?.focus({ preventScroll: true });
      },
    }, t('rulesReminderLink')));
}

// --- the console ---------------------------------------------------------------------------------

/** How many agreed to the rules in force and how many did not. */
export function renderRulesTally(store) {
  const rules = store.rules;
  if (!rules) return null;
  return h('p', { class: 'rules-tally', id: 'rules-tally', 'data-agreed': rules.agreed, 'data-disagreed': rules.disagreed },
    rules.rules.length ? t('rulesTally', { yes: rules.agreed, no: rules.disagreed }) : t('noRulesYet'));
}

/**
 * Changing, removing and adding rules. options: { drafts (Map rule id → text being edited),
 * draft: { newRule } }. Read-only (actions null): the list of rules.
 */
export function renderRulesEditor(store, actions, { drafts, draft } = {}) {
  const rules = store.rules;
  if (!rules) return null;
  if (!actions) return rules.rules.length ? rulesList(rules) : null;
  const act = !isEnded(store);
  const save = (rule) => {
    const text = (drafts.get(rule.id) ?? rule.text).trim();
    if (!text || charCount(text) > RULE_MAX) return showError(t('ruleLength', { max: RULE_MAX }));
    if (text === rule.text) return undefined;
    drafts.delete(rule.id);
    return actions.send({ type: 'set_rule', rule: rule.id, text }, t('ruleSaved'));
  };
  return h('div', { class: 'rules-editor' },
    rules.rules.length ? h('ol', { class: 'rules-edit-list', id: 'rules-edit-list' }, rules.rules.map((rule, i) => {
      const inputId = `rule-text-${rule.id}`;
      return h('li', { 'data-rule': rule.id },
        h('label', { for: inputId, class: 'sr-only' }, t('ruleNumber', { n: i + 1 })),
        h('textarea', {
          id: inputId, 'data-key': inputId, rows: 2, maxlength: RULE_MAX, value: drafts.get(rule.id) ?? rule.text,
          disabled: !act,
          oninput: (e) => drafts.set(rule.id, e.target.value),
          onkeydown: (e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              save(rule);
            }
          },
        }),
        h('div', { class: 'rule-actions' },
          act ? h('button', { type: 'button', class: 'secondary small', 'data-key': `rule-save-${rule.id}`, 'aria-describedby': inputId, onclick: () => save(rule) }, t('saveButton')) : null,
          act ? h('button', {
            type: 'button', class: 'danger-outline small', 'data-key': `rule-remove-${rule.id}`, 'aria-describedby': inputId,
            onclick: () => {
              drafts.delete(rule.id);
              actions.send({ type: 'remove_rule', rule: rule.id }, t('ruleRemoved'));
            },
          }, t('removeButton')) : null,
          violationsBadge(rule, 'badge')));
    })) : null,
    act ? addRuleForm(actions, draft) : null);
}

function addRuleForm(actions, draft) {
  const add = (event) => {
    event.preventDefault();
    const text = draft.newRule.trim();
    if (!text || charCount(text) > RULE_MAX) {
      showError(t('ruleLength', { max: RULE_MAX }));
      document.getElementById('new-rule')?.focus();
      return;
    }
    draft.newRule = '';
    const input = document.getElementById('new-rule');
    if (input) input.value = '';
    actions.send({ type: 'set_rule', text }, t('ruleAdded')).then((result) => {
      if (!result && !draft.newRule) {
        // Refused: give the text back so nothing typed is lost.
        draft.newRule = text;
        const again = document.getElementById('new-rule');
        if (again) again.value = text;
      }
    });
  };
  return h('form', { class: 'add-rule', id: 'add-rule-form', novalidate: true, onsubmit: add },
    field({
      id: 'new-rule', label: t('newRuleLabel'), hint: t('newRuleHint'),
      control: h('input', { type: 'text', maxlength: RULE_MAX, value: draft.newRule, oninput: (e) => { draft.newRule = e.target.value; } }),
    }),
    h('button', { type: 'submit', class: 'primary', id: 'add-rule' }, t('addRuleButton')));
}
