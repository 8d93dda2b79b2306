// Experiments panel, the console's side: choosing which ideas to try.
//
// - renderExperimentsConsole: the ideas not tried yet (those carried over from the last vote
//   first), each one tap from becoming an experiment; a new experiment by its title; then the
//   experiments with changing each (experiments.js).
//
// Needs from the store: experiments, cards, rounds (what was carried over), participants,
// session (phase, status). Render functions take (store, actions, options), see ui.js; with
// actions null the experiments are only listed.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct, clearFields, field, foldedForm, textWithin } from '../ui.js';
import { all, experimentFromCard, ideasToTry, EXPERIMENT_TITLE_MAX, MAX_EXPERIMENTS } from '../model.js';
import { renderExperiments } from './experiments.js';

/** How many ideas to try the console lists. */
const IDEAS_SHOWN = 6;

/**
 * options: { view, drafts (see renderExperiments), draft: { title, open } (the new one's, and
 * whether "try another idea" is open in phase 4) }.
 */
export function renderExperimentsConsole(store, actions, { view = {}, drafts, draft = {} } = {}) {
  // Choosing what to try is phase 3's work; in phase 4 the experiments come first and more
  // can still be chosen, folded away below them.
  const phase = store.session.phase;
  const act = canAct(store, actions) && (phase === 3 || phase === 4) && all(store, 'experiments').length < MAX_EXPERIMENTS;
  const choose = act ? [ideasList(store, actions, view), newExperiment(actions, view, draft)] : null;
  return renderExperiments(store, actions, {
    view, drafts,
    before: phase === 3 ? choose : null,
    after: phase === 4 && choose ? foldedForm(draft, t('tryAnother'), h('div', {}, choose)) : null,
  });
}

function ideasList(store, actions, view) {
  const ideas = ideasToTry(store).slice(0, IDEAS_SHOWN);
  if (!ideas.length) return null;
  return h('div', { class: 'ideas-to-try' },
    h('h3', { id: 'ideas-heading' }, t('ideasToTry')),
    h('ul', { class: 'idea-list', 'aria-labelledby': 'ideas-heading' }, ideas.map((card) => h('li', { 'data-card': card.id },
      h('p', { class: 'card-text', id: `idea-${card.id}`, dir: 'auto' }, card.text ?? ''),
      h('button', {
        type: 'button', class: 'secondary small', 'data-key': `try-${card.id}`, 'aria-describedby': `idea-${card.id}`,
        onclick: () => made(actions, view, experimentFromCard(card)),
      }, t('makeExperiment'))))));
}

function newExperiment(actions, view, draft) {
  const onAdd = (event) => {
    event.preventDefault();
    const title = textWithin(draft.title, { max: EXPERIMENT_TITLE_MAX, message: t('titleLength', { max: EXPERIMENT_TITLE_MAX }) });
    if (title !== null) made(actions, view, { type: 'add_experiment', title }, () => clearFields(draft, 'new-experiment', ['title']));
  };
  return h('form', { class: 'new-experiment', id: 'new-experiment', novalidate: true, onsubmit: onAdd },
    h('div', { class: 'row' },
      field({
        id: 'new-experiment-title', label: t('newExperimentLabel'),
        control: h('input', { type: 'text', maxlength: EXPERIMENT_TITLE_MAX, dir: 'auto', value: draft.title || '', oninput: (e) => { draft.title = e.target.value; } }),
      }),
      h('button', { type: 'submit', class: 'secondary' }, t('newExperimentButton'))));
}

/** Makes the experiment and opens its form, to fill in the plan; then `done()`. */
function made(actions, view, cmd, done = () => {}) {
  actions.send(cmd, t('experimentMade')).then((result) => {
    if (!result?.experiment) return;
    done();
    view.editing = result.experiment;
    actions.refresh();
    document.getElementById(`x-${result.experiment}-prediction`)?.focus();
  });
}
