// Join (/j/CODE): a phone with a token for this session goes straight back in as the same
// person; a phone without one sees the session's title and picks a name and a perspective.

import { h, replace } from '../dom.js';
import { t, suggest } from '../i18n.js';
import { getToken, sessionInfo } from '../api.js';
import { connect } from '../conn.js';
import { field, errorText, messagePage, setTitle, markShown } from '../ui.js';
import { PERSPECTIVES, NAME_MAX, nameProblem } from '../model.js';
import * as participant from './participant.js';

export const NAME = 'join';

export function start(main, { code }) {
  let current = null;

  const toParticipant = (conn) => {
    current = participant.start(main, { conn, onForgotten: () => toForm(t('forgotten')) });
  };
  const toForm = (notice) => {
    current = joinForm(main, code, notice, toParticipant);
  };

  if (getToken('participant', code)) toParticipant(connect({ code, kind: 'participant' }));
  else toForm(null);

  return { render: () => current.render() };
}

function joinForm(main, code, notice, onJoined) {
  const draft = { name: '', perspective: null };
  let info = null;
  let loadError = null;
  let errors = {};
  let joinError = null;
  let busy = false;

  async function load() {
    loadError = null;
    info = null;
    render();
    try {
      info = await sessionInfo(code);
      suggest(info.language);
    } catch (err) {
      loadError = err.code || 'network';
    }
    render();
    if (info) document.getElementById('session-title')?.focus();
  }

  function onSubmit(event) {
    event.preventDefault();
    if (busy) return;
    const name = draft.name.trim();
    errors = {};
    joinError = null;
    const problem = nameProblem(name, NAME_MAX);
    if (problem) errors.name = t(problem, { max: NAME_MAX });
    if (!draft.perspective) errors.perspective = t('perspectiveMissing');
    if (errors.name || errors.perspective) {
      render();
      document.getElementById(errors.name ? 'name' : 'perspective-client')?.focus();
      return;
    }
    busy = true;
    render();
    const conn = connect({ code, kind: 'participant', join: { name, perspective: draft.perspective } });
    const offChange = conn.on('change', (store) => {
      if (!store.ready) return;
      offChange();
      offFinal();
      onJoined(conn);
    });
    const offFinal = conn.on('final', (err) => {
      offChange();
      offFinal();
      conn.close();
      busy = false;
      joinError = errorText(err);
      render();
      document.getElementById('join-error')?.focus();
    });
  }

  function perspectiveChoice(value) {
    const id = `perspective-${value}`;
    return h('div', { class: 'choice choice-big' },
      h('input', {
        type: 'radio', name: 'perspective', id, value, checked: draft.perspective === value,
        'aria-describedby': `${id}-hint`,
        onchange: () => {
          draft.perspective = value;
        },
      }),
      h('label', { for: id },
        h('span', { class: 'choice-title' }, t(`perspective.${value}`)),
        h('span', { class: 'choice-hint', id: `${id}-hint` }, t(`perspectiveHint.${value}`))));
  }

  function form() {
    return h('form', { id: 'join-form', class: 'panel', novalidate: true, onsubmit: onSubmit },
      notice ? h('p', { class: 'notice' }, notice) : null,
      field({
        id: 'name', label: t('nameLabel'), hint: t('nameHint'), error: errors.name,
        control: h('input', {
          type: 'text', name: 'name', value: draft.name, maxlength: NAME_MAX, autocomplete: 'given-name',
          required: true, oninput: (event) => {
            draft.name = event.target.value;
          },
        }),
      }),
      h('fieldset', {
        class: errors.perspective ? 'choices has-error' : 'choices',
        'aria-describedby': errors.perspective ? 'perspective-error' : null,
      },
      h('legend', {}, t('perspectiveLegend')),
      errors.perspective ? h('p', { class: 'error-text', id: 'perspective-error' }, errors.perspective) : null,
      PERSPECTIVES.map(perspectiveChoice)),
      joinError ? h('p', { class: 'error-text', id: 'join-error', tabindex: '-1' }, joinError) : null,
      h('button', { type: 'submit', class: 'primary wide', disabled: busy }, busy ? t('joining') : t('joinSubmit')));
  }

  function render() {
    if (loadError) {
      setTitle(null);
      const messages = { session_not_found: t('noSession') };
      const text = messages[loadError] || (loadError === 'network' ? t('cannotLoad') : errorText({ code: loadError }));
      const action = loadError === 'network' || loadError === 'internal'
        ? h('button', { type: 'button', class: 'primary', onclick: load }, t('retry'))
        : h('a', { class: 'button', href: '/' }, t('tryOtherCode'));
      replace(main, messagePage(text, action));
      return;
    }
    if (!info) {
      setTitle(null);
      replace(main, h('p', { class: 'loading', role: 'status' }, t('loadingSession')));
      return;
    }
    setTitle(info.title);
    markShown();
    const closedText = info.status === 'locked' ? t('sessionLockedJoin')
      : info.status === 'ended' ? t('sessionEndedJoin') : null;
    replace(main,
      h('div', { class: 'intro' },
        h('p', { class: 'eyebrow' }, t('joinAs')),
        h('h1', { id: 'session-title', tabindex: '-1' }, info.title)),
      closedText
        ? h('section', { class: 'panel message' }, h('p', { class: 'notice' }, closedText),
          h('a', { class: 'button', href: '/' }, t('tryOtherCode')))
        : form());
  }

  load();
  return { render };
}
