// Card forms (phone): adding a card and changing one's own. Forms only: read-only (actions
// null), or once the session has ended, they show nothing. A screen builds them only when
// they open or close, never on a change in the room, so typing (with a phone keyboard's word
// suggestions too) is never interrupted. (The console's merge form is in cards-console.js.)
//
// Needs from the store: session (phase, status). Render functions take (store, actions,
// options), see ui.js; the actions each form needs are named at the form.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { canAct, countedField, field, showError, updateCounter } from '../ui.js';
import { CARD_KINDS, CARD_MAX, kindForPhase } from '../model.js';

/**
 * Adding a card. options: { draft: { text, kind } } (kind null: the phase's default).
 * actions: send, latest() (the store now: the phase may have changed since the form was built).
 */
export function renderAddForm(store, actions, { draft }) {
  if (!canAct(store, actions)) return null;
  const kind = draft.kind || kindForPhase(store.session.phase);
  return h('form', { class: 'panel add-card', id: 'add-card-form', novalidate: true, onsubmit: (event) => onAdd(event, actions, draft), 'aria-labelledby': 'add-card-heading' },
    h('h2', { id: 'add-card-heading' }, t('addCardHeading')),
    cardTextField('card-text', 3, draft.text, (value) => { draft.text = value; }, true),
    h('div', { class: 'row' },
      field({
        id: 'card-kind', label: t('cardKindLabel'),
        control: h('select', {
          name: 'kind', onchange: (event) => {
            draft.kind = event.target.value;
          },
        }, CARD_KINDS.map((k) => h('option', { value: k, selected: k === kind }, t(`kind.${k}`)))),
      }),
      h('button', { type: 'submit', class: 'primary', id: 'add-card-button' }, t('addCardButton'))));
}

function onAdd(event, actions, draft) {
  event.preventDefault();
  const text = draft.text.trim();
  if (!text) {
    showError(t('cardEmpty'));
    document.getElementById('card-text').focus();
    return;
  }
  const kind = draft.kind || kindForPhase(actions.latest().session.phase);
  draft.text = '';
  const textarea = document.getElementById('card-text');
  textarea.value = '';
  updateCounter(textarea, CARD_MAX);
  actions.send({ type: 'add_card', text, kind }, t('cardAdded')).then((result) => {
    if (!result && !draft.text) {
      // Refused: give the text back so nothing typed is lost.
      draft.text = text;
      const again = document.getElementById('card-text');
      if (again) {
        again.value = text;
        updateCounter(again, CARD_MAX);
      }
    }
  });
}

/**
 * Changing one's own card. options: { card (its id), draft: { editText } }. actions: send,
 * stopEdit() (closes the form; the screen gives focus back to the card's edit button).
 */
export function renderEditForm(store, actions, { card, draft }) {
  if (!canAct(store, actions)) return null;
  const onSave = (event) => {
    event.preventDefault();
    const text = draft.editText.trim();
    if (!text) {
      showError(t('cardEmpty'));
      return;
    }
    actions.send({ type: 'edit_card', card, text }, t('cardSaved'));
    actions.stopEdit();
  };
  return h('form', { class: 'panel add-card editing', id: 'edit-card-form', novalidate: true, onsubmit: onSave, 'aria-labelledby': 'edit-card-heading' },
    h('h2', { id: 'edit-card-heading' }, t('editCardHeading')),
    cardTextField('edit-text', 4, draft.editText, (value) => { draft.editText = value; }, false),
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'primary' }, t('saveButton')),
      h('button', { type: 'button', class: 'secondary', onclick: actions.stopEdit }, t('cancelButton'))));
}

function cardTextField(id, rows, value, onInput, describe) {
  return countedField({ id, label: t('cardTextLabel'), max: CARD_MAX, value, attrs: { name: 'text', rows }, describe, onInput });
}

