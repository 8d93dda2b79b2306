// Home (/): join with a code, start a new session as facilitator, or go back to a session this
// browser facilitates (listed from this device's own storage; the keys never leave it).

import { h, replace } from '../dom.js';
import { t, lang } from '../i18n.js';
import { cleanCode, createSession, setToken, facilitatingSessions, forgetFacilitating, getOrganiserKey, setOrganiserKey } from '../api.js';
import { field, errorText, setTitle, announce } from '../ui.js';
import { STATUS_WORDS } from '../panels/session.js';
import { TITLE_MAX, PROBLEM_MAX, NAME_MAX, nameProblem } from '../model.js';

export const NAME = 'home';

export function start(main) {
  const draft = { code: '', title: '', problem: '', name: '', language: lang(), anonymous: false, key: '' };
  // Whether this server asked for the organiser key (and the one kept here, if any, was wrong).
  let askKey = false;
  let errors = {};
  let busy = false;
  let createError = null;

  function onJoin(event) {
    event.preventDefault();
    const code = cleanCode(draft.code);
    if (!code) {
      errors = { code: t('codeMissing') };
      render();
      document.getElementById('code').focus();
      return;
    }
    location.assign(`/j/${code}`);
  }

  async function onCreate(event) {
    event.preventDefault();
    if (busy) return;
    const title = draft.title.trim();
    errors = {};
    createError = null;
    if (!title) {
      errors = { title: t('titleMissing') };
      render();
      document.getElementById('title').focus();
      return;
    }
    const nameIssue = draft.name.trim() ? nameProblem(draft.name, NAME_MAX) : null;
    if (nameIssue) {
      errors = { name: t(nameIssue) };
      render();
      document.getElementById('facilitator-name').focus();
      return;
    }
    const typedKey = askKey ? draft.key.trim() : '';
    if (askKey && !typedKey) {
      errors = { key: t('organiserKeyMissing') };
      render();
      document.getElementById('organiser-key').focus();
      return;
    }
    busy = true;
    render();
    try {
      const key = typedKey || getOrganiserKey();
      const created = await createSession({
        title,
        problem: draft.problem.trim(),
        language: draft.language,
        anonymous_cards: draft.anonymous,
        ...(draft.name.trim() ? { facilitator_name: draft.name.trim() } : {}),
      }, key);
      if (typedKey) setOrganiserKey(typedKey);
      setToken('facilitator', created.code, created.facilitator_token);
      setToken('projector', created.code, created.projector_token);
      // The facilitator link, on this very server (whatever host name the server thinks it has).
      const target = new URL(created.facilitator_url, location.href);
      location.assign(target.pathname + target.hash);
    } catch (err) {
      busy = false;
      if (err.code === 'organiser_key') {
        // Asked once: the key typed next is kept on this device.
        const hadKey = askKey || Boolean(getOrganiserKey());
        setOrganiserKey(null);
        askKey = true;
        draft.key = '';
        errors = { key: t(hadKey ? 'organiserKeyWrong' : 'organiserKeyNeeded') };
        render();
        document.getElementById('organiser-key').focus();
        return;
      }
      createError = errorText(err);
      render();
      document.getElementById('create-error')?.focus();
    }
  }

  const bind = (key) => (event) => {
    draft[key] = event.target.type === 'checkbox' ? event.target.checked : event.target.value;
  };

  function joinSection() {
    return h('section', { class: 'panel', 'aria-labelledby': 'join-heading' },
      h('h2', { id: 'join-heading' }, t('joinHeading')),
      h('form', { id: 'join-form', novalidate: true, onsubmit: onJoin },
        field({
          id: 'code', label: t('codeLabel'), hint: t('codeHint'), error: errors.code,
          control: h('input', {
            type: 'text', name: 'code', value: draft.code, class: 'code-input', autocomplete: 'off',
            autocapitalize: 'characters', spellcheck: 'false', maxlength: 12, oninput: bind('code'),
          }),
        }),
        h('button', { type: 'submit', class: 'primary' }, t('joinButton'))));
  }

  function createSection() {
    const languageRadio = (value, label) => h('div', { class: 'choice' },
      h('input', {
        type: 'radio', name: 'language', id: `language-${value}`, value,
        checked: draft.language === value, onchange: bind('language'),
      }),
      h('label', { for: `language-${value}` }, label));
    return h('section', { class: 'panel', 'aria-labelledby': 'create-heading' },
      h('h2', { id: 'create-heading' }, t('createHeading')),
      h('p', {}, t('createIntro')),
      h('form', { id: 'create-form', novalidate: true, onsubmit: onCreate },
        field({
          id: 'title', label: t('titleLabel'), hint: t('titleHint'), error: errors.title,
          control: h('input', { type: 'text', name: 'title', value: draft.title, maxlength: TITLE_MAX, required: true, oninput: bind('title') }),
        }),
        field({
          id: 'problem', label: t('problemLabel'), hint: t('problemHint'),
          control: h('textarea', { name: 'problem', rows: 4, maxlength: PROBLEM_MAX, value: draft.problem, oninput: bind('problem') }),
        }),
        field({
          id: 'facilitator-name', label: t('facilitatorNameLabel'), error: errors.name,
          control: h('input', { type: 'text', name: 'facilitator_name', value: draft.name, maxlength: NAME_MAX, autocomplete: 'name', oninput: bind('name') }),
        }),
        h('fieldset', { class: 'choices' },
          h('legend', {}, t('languageLegend')),
          languageRadio('nl', t('langNl')),
          languageRadio('en', t('langEn'))),
        h('div', { class: 'choice' },
          h('input', { type: 'checkbox', id: 'anonymous', name: 'anonymous_cards', checked: draft.anonymous, onchange: bind('anonymous') }),
          h('label', { for: 'anonymous' }, t('anonymousLabel'))),
        askKey ? field({
          id: 'organiser-key', label: t('organiserKeyLabel'), hint: t('organiserKeyHint'), error: errors.key,
          control: h('input', {
            type: 'password', name: 'organiser_key', value: draft.key, autocomplete: 'off',
            autocapitalize: 'off', spellcheck: 'false', oninput: bind('key'),
          }),
        }) : null,
        createError ? h('p', { class: 'error-text', id: 'create-error', tabindex: '-1' }, createError) : null,
        h('button', { type: 'submit', class: 'primary', disabled: busy, 'aria-disabled': busy ? 'true' : null },
          busy ? t('creating') : t('createButton'))));
  }

  function mineSection() {
    const mine = facilitatingSessions();
    if (!mine.length) return null;
    const date = (ms) => (ms ? new Intl.DateTimeFormat(lang(), { dateStyle: 'medium' }).format(new Date(ms)) : null);
    return h('section', { class: 'panel mine', id: 'mine', 'aria-labelledby': 'mine-heading' },
      h('h2', { id: 'mine-heading', tabindex: '-1' }, t('facilitatingHeading')),
      h('p', { class: 'hint' }, t('facilitatingIntro')),
      h('ul', { class: 'mine-list' }, mine.map((m) => {
        const titleId = `mine-title-${m.code}`;
        return h('li', { class: 'mine-item', 'data-code': m.code },
          h('p', { class: 'mine-title', id: titleId }, m.title || m.code),
          h('p', { class: 'card-meta' },
            h('span', {}, t('facilitatingCode', { code: m.code })),
            m.status ? h('span', {}, t(STATUS_WORDS[m.status])) : null,
            m.created_at ? h('span', {}, date(m.created_at)) : null),
          h('div', { class: 'row' },
            h('a', { class: 'button', href: `/f/${m.code}`, 'data-key': `open-${m.code}`, 'aria-describedby': titleId }, t('facilitatingOpen')),
            h('button', {
              type: 'button', class: 'secondary small', 'data-key': `forget-${m.code}`, 'aria-describedby': titleId,
              onclick: () => {
                forgetFacilitating(m.code);
                render();
                announce(t('done'));
                (document.getElementById('mine-heading') || document.getElementById('code'))?.focus();
              },
            }, t('facilitatingForget'))));
      })));
  }

  function render() {
    setTitle(null);
    replace(main,
      h('div', { class: 'intro' },
        h('h1', {}, t('homeTitle')),
        h('p', {}, t('homeIntro'))),
      mineSection(),
      joinSection(),
      createSection());
  }

  render();
  return { render };
}
