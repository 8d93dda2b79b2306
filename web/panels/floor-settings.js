// Floor settings panel (console): the queue order, turn and response limits, hard or soft
// limits, the fair-share factor, the cap on direct responses, and whether the projector shows
// the balance. Each field is sent as soon as it changes; a number out of range is refused on
// the spot and put back.
//
// Needs from the store: floor.settings, session (status: an ended session shows the fields
// disabled). Render functions take (store, actions, options), see ui.js; with actions null
// the settings are listed, nothing to change.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { field, showError } from '../ui.js';
import { isEnded, FLOOR_PRESETS, QUEUE_ORDERS, TURN_SECS, RESPONSE_SECS, FAIR_SHARE, RESPONSE_CAP, MIN_TURN_SECS, ROOM_SECS } from '../model.js';

export function renderFloorSettings(store, actions) {
  const floor = store.floor;
  if (!floor) return null;
  const set = floor.settings;
  if (!actions) return settingsList(set);
  const change = (key, value) => actions.send({ type: 'floor_settings', [key]: value }, t('settingsSaved'));
  const number = (key, range, { float = false } = {}) => (event) => {
    const value = float ? Number.parseFloat(String(event.target.value).replace(',', '.')) : Number.parseInt(event.target.value, 10);
    if (!Number.isFinite(value) || value < range.min || value > range.max) {
      showError(t('numberRange', { min: range.min, max: range.max }));
      event.target.value = String(set[key]);
      return;
    }
    // The fair-share factor is kept to one decimal.
    change(key, float ? Math.round(value * 10) / 10 : value);
  };
  const disabled = isEnded(store);
  const numberField = (id, key, range, label, hint, float = false) => field({
    id, label, hint,
    control: h('input', {
      type: 'number', min: range.min, max: range.max, step: float ? '0.1' : null, inputmode: float ? 'decimal' : 'numeric',
      value: String(set[key]), disabled, onchange: number(key, range, { float }),
    }),
  });
  const choice = (id, key, values, word, label) => field({
    id, label,
    control: h('select', { disabled, onchange: (e) => change(key, e.target.value) },
      values.map((v) => h('option', { value: v, selected: v === set[key] }, t(`${word}.${v}`)))),
  });
  const check = (id, key, label) => h('div', { class: 'choice' },
    h('input', { type: 'checkbox', id, checked: set[key], disabled, onchange: (e) => change(key, e.target.checked) }),
    h('label', { for: id }, label));
  return h('form', { class: 'floor-settings', id: 'floor-settings-form', novalidate: true, onsubmit: (e) => e.preventDefault() },
    h('fieldset', { class: 'presets' },
      h('legend', {}, t('presetLegend')),
      h('div', { class: 'row' }, FLOOR_PRESETS.map((preset) => h('button', {
        type: 'button', class: floor.preset === preset ? 'primary' : 'secondary', id: `preset-${preset}`, 'data-key': `preset-${preset}`,
        disabled, 'aria-pressed': floor.preset === preset ? 'true' : 'false',
        onclick: () => actions.send({ type: 'floor_settings', preset }, t('settingsSaved')),
      }, t(`preset.${preset}`)))),
      h('p', { class: 'hint', id: 'preset-hint' }, floor.preset ? t(`presetHint.${floor.preset}`) : t('presetNone'))),
    choice('floor-order', 'order', QUEUE_ORDERS, 'order', t('orderLabel')),
    h('div', { class: 'row' },
      numberField('turn-secs', 'turn_secs', TURN_SECS, t('turnSecsLabel')),
      numberField('response-secs', 'response_secs', RESPONSE_SECS, t('responseSecsLabel'))),
    choice('floor-mode', 'mode', ['hard', 'soft'], 'modeLong', t('modeLabel')),
    h('div', { class: 'row' },
      numberField('fair-share', 'fair_share', FAIR_SHARE, t('fairShareLabel'), t('fairShareHint'), true),
      numberField('response-cap', 'response_cap', RESPONSE_CAP, t('responseCapLabel'), t('responseCapHint'))),
    check('fair-share-cap', 'fair_share_cap', t('fairShareCapLabel')),
    check('shrink-turns', 'shrink_turns', t('shrinkTurnsLabel')),
    h('div', { class: 'row' },
      numberField('min-turn-secs', 'min_turn_secs', MIN_TURN_SECS, t('minTurnSecsLabel')),
      numberField('room-secs', 'room_secs', ROOM_SECS, t('roomSecsLabel'), t('roomSecsHint'))),
    check('weigh-perspectives', 'perspectives', t('perspectivesLabel')),
    h('div', { class: 'choice' },
      h('input', { type: 'checkbox', id: 'show-balance', checked: set.show_balance, disabled, onchange: (e) => change('show_balance', e.target.checked) }),
      h('label', { for: 'show-balance' }, t('showBalanceLabel'))));
}

/** The settings as plain text, for a read-only view. */
function settingsList(set) {
  const row = (label, value) => [h('dt', {}, label), h('dd', {}, value)];
  return h('dl', { class: 'floor-settings' },
    row(t('orderLabel'), t(`order.${set.order}`)),
    row(t('turnSecsLabel'), String(set.turn_secs)),
    row(t('responseSecsLabel'), String(set.response_secs)),
    row(t('modeLabel'), t(`modeLong.${set.mode}`)),
    row(t('fairShareLabel'), String(set.fair_share)),
    row(t('responseCapLabel'), String(set.response_cap)),
    row(t('fairShareCapLabel'), set.fair_share_cap ? '✓' : '–'),
    row(t('shrinkTurnsLabel'), set.shrink_turns ? '✓' : '–'),
    row(t('minTurnSecsLabel'), String(set.min_turn_secs)),
    row(t('roomSecsLabel'), String(set.room_secs)),
    row(t('perspectivesLabel'), set.perspectives ? '✓' : '–'),
    row(t('showBalanceLabel'), set.show_balance ? '✓' : '–'));
}
