// Ground rules panel, the console's side: keeping the rules.
//
// - renderRulesTally: how many agreed to the rules in force and how many did not.
// - renderRulesEditor: changing, removing and adding rules.
//
// Needs from the store: rules, session (status: an ended session shows the rules disabled).
// Render functions take (store, actions, options), see ui.js; with actions null the rules are
// only listed.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { field, showError } from '../ui.js';
import { charCount, isEnded, RULE_MAX } from '../model.js';
import { rulesList, violationsBadge } from './rules.js';

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
