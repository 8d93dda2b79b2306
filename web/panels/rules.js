// Ground rules panel.
//
// - renderRules (phone): the rules with how often each was broken, agreeing or not, the way
//   to report a broken rule, and one's own reports.
// - renderRulesReminder (phone): a small reminder near the top while the rules are not
//   answered, with a link down to them.
// - rulesList, violationsBadge: the list and its counts, which the console's side
//   (rules-console.js, not loaded by a phone) shows too.
//
// Needs from the store: rules, you (one's answer and reports), session (status). Render
// functions take (store, actions, options), see ui.js; with actions null the rules are only
// listed.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct, sendAndRefresh } from '../ui.js';
import { myReports, reportOpener } from './reports.js';

/** "Broken once", "broken 3 times", or null while never broken. */
export function violationsBadge(rule, className) {
  if (!rule.violations) return null;
  return h('span', { class: className }, rule.violations === 1 ? t('brokenOnce') : t('brokenTimes', { n: rule.violations }));
}

/** The rules as a numbered list. */
export function rulesList(rules) {
  return h('ol', { class: 'rules-list', id: 'rules-list' }, rules.rules.map((rule) => h('li', { 'data-rule': rule.id },
    h('span', { class: 'rule-text' }, rule.text),
    violationsBadge(rule, 'badge rule-count'))));
}

// --- the phone -----------------------------------------------------------------------------------

/**
 * The ground rules for a participant. options: { prominent (in phase 0, or while unanswered:
 * with an introduction), flagOpen (the report form is open: no button to open it), fold (an
 * object whose `open` says whether the list is unfolded: the list is folded behind "read the
 * 10 ground rules" so they do not fill the first screen, and the answer stays in view) }.
 * actions: send, refresh, openFlag().
 */
export function renderRules(store, actions, { prominent = false, flagOpen = false, fold = null } = {}) {
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
    fold ? h('details', {
      class: 'rules-fold', id: 'rules-fold', open: Boolean(fold.open),
      ontoggle: (event) => { fold.open = event.target.open; },
    }, h('summary', {}, t('rulesRead', { n: rules.rules.length })), rulesList(rules)) : rulesList(rules),
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

