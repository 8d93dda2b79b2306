// Card forms (phone): adding a card and changing one's own. The add form says what the phase
// asks for, lists that phase's kinds first (its main kind chosen), can build on a card, and
// asks where an example comes from and what a lesson is about. Forms only: read-only
// (actions null), or once the session has ended, they show nothing. A screen builds them
// again only when what they show changed and nobody types in them, so typing (with a phone
// keyboard's word suggestions too) is never interrupted. (The console's merge form is in
// cards-console.js.)
//
// Needs from the store: session (phase, status), cards (what a card builds on), experiments
// (what a lesson can be about). Render functions take (store, actions,
// options), see ui.js; the actions each form needs are named at the form.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct, countedField, field, showError, updateCounter } from '../ui.js';
import {
  CARD_KINDS, CARD_MAX, SOURCE_MAX, PHASES, PHASE_KINDS, kindForPhase, all, shorten, lessonOfKey, charCount,
} from '../model.js';

/**
 * Adding a card, with what the phase asks for first. options: { draft: { text, kind, buildsOn,
 * source, lessonOf } } (kind null: the phase's default; buildsOn: the card it builds on;
 * lessonOf: for a lesson, what it is about as a lessonKey). actions: send, latest() (the store
 * now: the phase may have changed since the form was built), stopBuilding() (the form no
 * longer builds on a card).
 */
export function renderAddForm(store, actions, { draft }) {
  if (!canAct(store, actions)) return null;
  const phase = store.session.phase;
  const kind = draft.kind || kindForPhase(phase);
  const parent = draft.buildsOn ? store.cards.get(draft.buildsOn) : null;
  const suggested = PHASE_KINDS[phase] || [];
  const option = (k) => h('option', { value: k, selected: k === kind }, t(`kind.${k}`));
  const extras = { source: null, lesson: null };
  const showExtras = (k) => {
    extras.source.hidden = k !== 'example';
    extras.lesson.hidden = k !== 'lesson';
  };
  extras.source = h('div', { class: 'field-wrap', hidden: kind !== 'example' }, field({
    id: 'card-source', label: t('sourceQuestion'), hint: t('sourceHint'),
    control: h('input', { type: 'text', maxlength: SOURCE_MAX, value: draft.source || '', dir: 'auto', oninput: (e) => { draft.source = e.target.value; } }),
  }));
  extras.lesson = h('div', { class: 'field-wrap', hidden: kind !== 'lesson' }, field({
    id: 'card-lesson-of', label: t('lessonOfLabel'),
    control: h('select', { onchange: (e) => { draft.lessonOf = e.target.value; } }, lessonOptions(store, draft.lessonOf)),
  }));
  return h('form', { class: 'panel add-card', id: 'add-card-form', novalidate: true, onsubmit: (event) => onAdd(event, actions, draft), 'aria-labelledby': 'add-card-heading' },
    h('h2', { id: 'add-card-heading' }, parent ? t('buildOnHeading') : t('addCardHeading')),
    h('p', { class: 'guide', id: 'card-guide' }, t(`guide.${phase}`)),
    parent ? h('div', { class: 'building-on', id: 'building-on', 'data-card': parent.id },
      h('p', {}, `${t('buildsOnLabel')} `, h('q', { dir: 'auto' }, shorten(parent.text ?? t('hiddenCard')))),
      h('button', { type: 'button', class: 'secondary small', id: 'stop-building', onclick: () => actions.stopBuilding() }, t('stopBuilding'))) : null,
    cardTextField('card-text', 3, draft.text, (value) => { draft.text = value; }, true),
    field({
      id: 'card-kind', label: t('cardKindLabel'),
      control: h('select', {
        name: 'kind', onchange: (event) => {
          draft.kind = event.target.value;
          showExtras(event.target.value);
        },
      },
      h('optgroup', { label: t('kindsForPhase') }, suggested.map(option)),
      h('optgroup', { label: t('kindsOther') }, CARD_KINDS.filter((k) => !suggested.includes(k)).map(option))),
    }),
    extras.source,
    extras.lesson,
    h('button', { type: 'submit', class: 'primary wide', id: 'add-card-button' }, t('addCardButton')));
}

/** What a lesson can be about: the session, a phase, or an experiment. */
function lessonOptions(store, chosen) {
  const key = chosen || 'session';
  const option = (value, text) => h('option', { value, selected: value === key }, text);
  const experiments = all(store, 'experiments');
  return [
    option('session', t('aboutSession')),
    experiments.length ? h('optgroup', { label: t('experimentsHeading') },
      experiments.map((e) => option(`experiment:${e.id}`, shorten(e.title)))) : null,
    h('optgroup', { label: t('phaseHeading') },
      PHASES.map((n) => option(`phase:${n}`, t('aboutPhase', { n, name: t(`phase.${n}`) })))),
  ];
}

function onAdd(event, actions, draft) {
  event.preventDefault();
  const text = draft.text.trim();
  if (!text) {
    showError(t('cardEmpty'));
    document.getElementById('card-text').focus();
    return;
  }
  const store = actions.latest();
  const kind = draft.kind || kindForPhase(store.session.phase);
  const source = kind === 'example' ? (draft.source || '').trim() : '';
  if (charCount(source) > SOURCE_MAX) {
    showError(t('tooLong', { n: charCount(source) - SOURCE_MAX }));
    return;
  }
  const cmd = { type: 'add_card', text, kind };
  if (draft.buildsOn && store.cards.get(draft.buildsOn)?.status === 'visible') cmd.builds_on = draft.buildsOn;
  if (source) cmd.source = source;
  if (kind === 'lesson' && lessonOfKey(draft.lessonOf)) cmd.lesson_of = lessonOfKey(draft.lessonOf);
  const kept = { text, buildsOn: draft.buildsOn, source: draft.source };
  Object.assign(draft, { text: '', source: '' });
  const textarea = document.getElementById('card-text');
  textarea.value = '';
  updateCounter(textarea, CARD_MAX);
  const sourceInput = document.getElementById('card-source');
  if (sourceInput) sourceInput.value = '';
  if (draft.buildsOn) actions.stopBuilding();
  actions.send(cmd, t('cardAdded')).then((result) => {
    if (!result && !draft.text) {
      // Refused: give the text back so nothing typed is lost.
      Object.assign(draft, kept);
      const again = document.getElementById('card-text');
      if (again) {
        again.value = text;
        updateCounter(again, CARD_MAX);
      }
    }
  });
}

/**
 * Changing one's own card: its text, and its kind (an example with a source and a lesson
 * about something keep theirs, as the server has it). options: { card (its id), draft: {
 * editText, editKind } }. actions: send, stopEdit() (closes the form; the screen gives focus
 * back to the card's edit button).
 */
export function renderEditForm(store, actions, { card, draft }) {
  if (!canAct(store, actions)) return null;
  const current = store.cards.get(card);
  const kindFixed = Boolean(current?.source || current?.lesson_of);
  const onSave = (event) => {
    event.preventDefault();
    const text = draft.editText.trim();
    if (!text) {
      showError(t('cardEmpty'));
      return;
    }
    const cmd = { type: 'edit_card', card, text };
    if (!kindFixed && draft.editKind && draft.editKind !== current?.kind) cmd.kind = draft.editKind;
    actions.send(cmd, t('cardSaved'));
    actions.stopEdit();
  };
  const kind = draft.editKind || current?.kind;
  const suggested = PHASE_KINDS[store.session.phase] || [];
  const option = (k) => h('option', { value: k, selected: k === kind }, t(`kind.${k}`));
  return h('form', { class: 'panel add-card editing', id: 'edit-card-form', novalidate: true, onsubmit: onSave, 'aria-labelledby': 'edit-card-heading' },
    h('h2', { id: 'edit-card-heading' }, t('editCardHeading')),
    cardTextField('edit-text', 4, draft.editText, (value) => { draft.editText = value; }, false),
    kindFixed ? null : field({
      id: 'edit-kind', label: t('cardKindLabel'),
      control: h('select', { name: 'kind', onchange: (event) => { draft.editKind = event.target.value; } },
        h('optgroup', { label: t('kindsForPhase') }, suggested.map(option)),
        h('optgroup', { label: t('kindsOther') }, CARD_KINDS.filter((k) => !suggested.includes(k)).map(option))),
    }),
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'primary' }, t('saveButton')),
      h('button', { type: 'button', class: 'secondary', onclick: actions.stopEdit }, t('cancelButton'))));
}

function cardTextField(id, rows, value, onInput, describe) {
  return countedField({ id, label: t('cardTextLabel'), max: CARD_MAX, value, attrs: { name: 'text', rows }, describe, onInput });
}

