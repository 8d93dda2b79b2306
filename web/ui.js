// The frame every screen lives in (top bar with connection state and language switch, the
// main area, the live region) and small pieces the screens share.

import { h, replace } from './dom.js';
import { t, choose, lang } from './i18n.js';
import { turnRemaining, countdown, balanceWord, charCount, isEnded } from './model.js';

let statusEl;
let liveEl;
let toastEl;
let offlineEl;
let toastTimer;
let connection = null;
let lastConnection = null;

/**
 * Builds the page frame into #app and returns the <main> a screen renders into. Called again
 * with the same <main> when the language changes, so the screen inside it stays.
 */
export function buildFrame(app, existingMain) {
  statusEl = h('span', { class: 'conn', id: 'conn-status' });
  liveEl = h('div', { class: 'sr-only', id: 'live', 'aria-live': 'polite', 'aria-atomic': 'true' });
  toastEl = h('div', { class: 'toast', id: 'toast', role: 'alert', hidden: true });
  offlineEl = h('p', { class: 'offline-banner', id: 'offline-banner', hidden: true });
  const main = existingMain || h('main', { id: 'main', tabindex: '-1' });
  replace(app,
    h('a', { class: 'skip', href: '#main' }, t('skipToMain')),
    h('header', { class: 'topbar' },
      h('a', { class: 'brand', href: '/' }, t('appName')),
      statusEl,
      h('button', {
        type: 'button', class: 'lang-switch', id: 'lang-switch', lang: t('switchLang'),
        onclick: () => choose(t('switchLang')),
      }, t('switchTo')),
      // Errors show in the top bar, which stays at the top: the bar grows for a while, and
      // the message never covers the cards or forms under it.
      toastEl),
    offlineEl, main, liveEl);
  renderStatus();
  return main;
}

/** Shows this connection's state in the top bar from now on. */
export function showConnection(conn) {
  connection = conn;
  lastConnection = null;
  conn.on('status', renderStatus);
  renderStatus();
}

function renderStatus() {
  if (!statusEl) return;
  if (offlineEl) {
    offlineEl.hidden = true;
    offlineEl.classList.remove('is-slow');
  }
  if (!connection) {
    statusEl.hidden = true;
    return;
  }
  const { connection: state, pending, storage } = connection.status();
  let text;
  let kind;
  if (state === 'online' && storage === 'failing' && pending > 0) [text, kind] = [t('storageFailing'), 'offline'];
  else if (state === 'online' && storage === 'slow') [text, kind] = [t('savingSlow'), 'sending'];
  else if (state === 'online' && pending > 0) [text, kind] = [t('sending'), 'sending'];
  else if (state === 'online') [text, kind] = [t('online'), 'online'];
  else if (state === 'connecting') [text, kind] = [t('connecting'), 'sending'];
  else if (state === 'offline') [text, kind] = [t('offline'), 'offline'];
  else {
    statusEl.hidden = true;
    return;
  }
  statusEl.hidden = false;
  // Offline, in plain words under the top bar: what happens to what one does meanwhile.
  if (offlineEl && state === 'offline') {
    offlineEl.hidden = false;
    offlineEl.textContent = pending > 0 ? t('offlinePending', { n: pending }) : t('offlineBanner');
  } else if (offlineEl && kind === 'offline') {
    offlineEl.hidden = false;
    offlineEl.textContent = t('storageFailingBanner', { n: pending });
  } else if (offlineEl && storage === 'slow' && state === 'online') {
    offlineEl.hidden = false;
    offlineEl.classList.add('is-slow');
    offlineEl.textContent = t('storageSlowBanner');
  }
  statusEl.className = `conn conn-${kind}`;
  statusEl.setAttribute('data-state', kind);
  statusEl.textContent = text;
  // Tell screen-reader users only when the connection comes and goes, not on every vote.
  if (lastConnection && lastConnection !== state) {
    if (state === 'offline') announce(t('lostConnection'));
    if (state === 'online' && lastConnection === 'offline') announce(t('backOnline'));
  }
  lastConnection = state;
}

/** Says something to screen-reader users (a confirmation, a change in the room). */
export function announce(text) {
  if (!liveEl) return;
  liveEl.textContent = '';
  // A fresh text node in a later frame is announced even when the text repeats.
  requestAnimationFrame(() => {
    liveEl.textContent = text;
  });
}

/** Shows an error to everyone, in plain words, for a while. */
export function showError(text) {
  if (!toastEl) return;
  clearTimeout(toastTimer);
  toastEl.hidden = false;
  replace(toastEl, h('p', {}, text), h('button', {
    type: 'button', class: 'toast-close', onclick: hideError, 'aria-label': t('closeButton'),
  }, '×'));
  toastTimer = setTimeout(hideError, 8000);
}

function hideError() {
  if (toastEl) toastEl.hidden = true;
}

/**
 * Plain words for an error with a protocol `code`, naming its cause: the most specific of
 * `error.<command>.<code>.<field>`, `error.<command>.<code>`, `error.<code>.<field>` and
 * `error.<code>` that has words (command and field as the error carries them, see conn.js).
 */
export function errorText(error) {
  const { code, command, field } = error || {};
  const keys = [
    command && field ? `error.${command}.${code}.${field}` : null,
    command ? `error.${command}.${code}` : null,
    field ? `error.${code}.${field}` : null,
    `error.${code}`,
  ].filter(Boolean);
  for (const key of keys) {
    const text = t(key);
    if (text !== key) return text;
  }
  return t('error.unknown');
}

/** Phase number, name and its one sentence. */
export function phaseBlock(phase, { headingLevel = 'h2' } = {}) {
  return h('section', { class: 'phase', 'aria-labelledby': 'phase-name' },
    h('p', { class: 'phase-number' }, t('phaseOf', { n: phase })),
    h(headingLevel, { class: 'phase-name', id: 'phase-name' }, t(`phase.${phase}`)),
    h('p', { class: 'phase-text' }, t(`phaseText.${phase}`)));
}

/** The text of a card for lists and rankings; a placeholder when it is no longer visible. */
export function cardLabel(store, cardId) {
  const card = store.cards.get(cardId);
  return card?.text ?? t('hiddenCard');
}

/**
 * The ranked result of a round, highest first, as the server ordered it. Tied cards share a
 * rank (1, 2, 2, 4): the report's rows carry it (`rank`, and their own `text`), live rows get
 * it counted the same way. Each row has a bar as long as its votes against the most any card
 * got. options: { id, top (show only the first places with votes, ties at the cut included) }.
 */
export function ranking(store, round, { id = 'ranking', top = null } = {}) {
  const all = round.results || [];
  const rankOf = (row) => row.rank ?? 1 + all.filter((r) => r.votes > row.votes).length;
  const rows = top ? all.filter((row) => rankOf(row) <= top && row.votes > 0) : all;
  const most = Math.max(1, ...all.map((r) => r.votes));
  return h('ol', { class: 'ranking', id, 'data-round': round.id },
    rows.map((row) => h('li', { class: 'ranking-row', 'data-card': row.card, 'data-votes': row.votes, 'data-rank': rankOf(row), value: rankOf(row) },
      h('span', { class: 'rank', 'aria-hidden': 'true' }, String(rankOf(row))),
      h('span', { class: 'ranking-text' }, row.text ?? cardLabel(store, row.card)),
      h('span', { class: 'ranking-votes' }, voteCount(row.votes)),
      bar(row.votes / most))));
}

export function voteCount(n) {
  return n === 1 ? t('resultVote') : t('resultVotes', { n });
}

/** A read-only link field with a copy button. */
export function copyField(id, label, value) {
  const input = h('input', { id, type: 'text', readonly: true, value, class: 'copy-input', spellcheck: 'false' });
  const copy = async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(value);
      announce(t('copied'));
    } catch {
      // Not a secure context (plain http on a local network): fall back to the old way.
      const ok = document.execCommand && document.execCommand('copy');
      if (ok) announce(t('copied'));
      else showError(t('copyFailed'));
    }
  };
  return h('div', { class: 'field copy-field' },
    h('label', { for: id }, label),
    h('div', { class: 'copy-row' }, input,
      h('button', { type: 'button', class: 'secondary', 'data-key': `copy-${id}`, onclick: copy },
        t('copy'), h('span', { class: 'sr-only' }, `: ${label}`))));
}

/** A full-width message with an optional action, for screens that cannot go on. */
export function messagePage(text, action) {
  return h('section', { class: 'panel message' },
    h('h1', { id: 'message-title', tabindex: '-1' }, text),
    action || null);
}

/** The way back to the start page, under a message. */
export function homeLink() {
  return h('a', { class: 'button', href: '/' }, t('toHome'));
}

/** A screen that cannot go on: the message (and a way out) instead of the screen. */
export function showStopped(main, text, action) {
  setTitle(null);
  replace(main, messagePage(text, action));
}

/** While the first welcome is on its way. */
export function showConnecting(main) {
  replace(main, h('p', { class: 'loading', role: 'status' }, t('connecting')));
}

/**
 * Instead of a screen with a connection: why it cannot go on (final, the error it cannot get
 * past), with the way back to the start page; or, without final, that it is connecting.
 */
export function showAbsent(main, final) {
  if (!final) {
    showConnecting(main);
    return;
  }
  const text = final.code === 'bad_token' ? t('badLink') : final.code === 'session_not_found' ? t('noSession') : errorText(final);
  showStopped(main, text, homeLink());
}

/** Sets the document's title: "what — Tafel". */
export function setTitle(text) {
  document.title = text ? `${text} — Tafel` : 'Tafel';
}

/**
 * A form field: a real <label for>, an optional hint and error, both tied to the control with
 * aria-describedby so a screen reader reads them with it.
 */
export function field({ id, label, hint, error, control, extra }) {
  const described = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ');
  if (described) control.setAttribute('aria-describedby', described);
  if (error) control.setAttribute('aria-invalid', 'true');
  control.id = id;
  return h('div', { class: error ? 'field has-error' : 'field' },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
    error ? h('p', { class: 'error-text', id: `${id}-error` }, error) : null,
    control,
    extra || null);
}

/**
 * A text area with "n of max characters left" under it (id `${id}-count`), kept up to date
 * while typing; onInput(value) keeps the draft. `describe` ties the counter to the text area.
 */
export function countedField({ id, label, max, value, attrs, describe = false, onInput }) {
  const counterId = `${id}-count`;
  return field({
    id, label,
    control: h('textarea', {
      ...attrs, maxlength: max, value, 'aria-describedby': describe ? counterId : null,
      oninput: (event) => {
        onInput(event.target.value);
        updateCounter(event.target, max);
      },
    }),
    extra: h('p', { class: 'counter', id: counterId }, t('charsLeft', { n: charCount(value), max })),
  });
}

/** Shows again how many characters are left in a countedField (after its text was set). */
export function updateCounter(textarea, max) {
  const counter = document.getElementById(`${textarea.id}-count`);
  if (counter) counter.textContent = t('charsLeft', { n: charCount(textarea.value), max });
}

/**
 * Parts of a screen with form fields are built again only when what they show changed (their
 * key) and not while someone types in them, so a busy room never closes a drop-down list or
 * interrupts typing. A part passed over for that is tried again (`retry`) once focus leaves it.
 */
export function keptRegions(retry) {
  const built = new Map();
  const deferred = new Set();
  return {
    rebuild(name, region, key, build) {
      if (built.get(name) === key) return;
      const active = document.activeElement;
      const typing = active && region.contains(active) && ['INPUT', 'SELECT', 'TEXTAREA'].includes(active.tagName);
      if (typing && built.has(name)) {
        // Try again once they leave the field.
        if (!deferred.has(name)) {
          deferred.add(name);
          region.addEventListener('focusout', () => {
            deferred.delete(name);
            // Not at once: a tap that moved focus away is still on its way to its button.
            setTimeout(retry, 400);
          }, { once: true });
        }
        return;
      }
      built.set(name, key);
      replace(region, build());
    },
    /** The screen was built anew: every part is built again at the next rebuild. */
    reset() {
      built.clear();
      deferred.clear();
    },
  };
}

// --- panels --------------------------------------------------------------------------------------
//
// A panel (web/panels/) is a module that owns the markup of one part of a screen. Its render
// functions take (store, actions, options):
// - store: conn.store, or a past state of it (a replay, a printed report);
// - actions: null to show the panel read-only (nothing to press or type), or what the panel
//   may do: send(cmd, doneText) → Promise of the result, or null when refused (the screen shows
//   the error and says doneText), refresh() to draw the screen again after a change only this
//   device knows (a confirmation opened), and what else the module says at its top;
// - options: what the screen keeps that the store does not (drafts, which card asks for
//   confirmation); a panel writes what the person types or chooses into these objects.
// They return a node, a list of nodes, or null for nothing to show.

/** Whether a panel offers anything to press or type: it has actions and the session goes on. */
export function canAct(store, actions) {
  return Boolean(actions) && !isEnded(store);
}

/** Draws the screen again after a change only this device knows, and moves focus to `selector`. */
export function refreshAndFocus(actions, selector) {
  actions.refresh();
  document.querySelector(selector)?.focus();
}

/** Sends a command from a panel and draws the screen again once it is done. */
export function sendAndRefresh(actions, cmd, doneText) {
  actions.send(cmd, doneText).then((result) => {
    if (result) actions.refresh();
  });
}

/**
 * Loads panel modules when a screen first needs them, so a phone downloads only what its
 * session uses: get(name) gives the module once it arrived, or null (and starts loading it;
 * onLoaded() runs when it is there, to draw the screen again). A module that did not arrive
 * (a flaky network) is asked for again the next time.
 */
export function lazyPanels(loaders, onLoaded) {
  const loaded = new Map();
  const loading = new Set();
  return (name) => {
    if (loaded.has(name)) return loaded.get(name);
    if (!loading.has(name)) {
      loading.add(name);
      loaders[name]().then((module) => {
        loaded.set(name, module);
        onLoaded();
      }, () => loading.delete(name));
    }
    return null;
  };
}

/** A bar as wide as `fraction` (0–1) of its track; decoration only (the number is in text). */
export function bar(fraction) {
  const fill = h('span', { class: 'bar-fill' });
  // Through the CSSOM: the page's CSP allows no style attributes.
  fill.style.width = `${Math.round(Math.max(0, Math.min(1, fraction || 0)) * 100)}%`;
  return h('span', { class: 'bar', 'aria-hidden': 'true' }, fill);
}

/**
 * A typed text, trimmed, when it has `min` to `max` characters; else null, after showing
 * `message`. (An empty optional text, min 0, is '' and passes.)
 */
export function textWithin(value, { min = 1, max, message }) {
  const text = (value || '').trim();
  const n = charCount(text);
  if (n < min || n > max) {
    showError(message);
    return null;
  }
  return text;
}

/** After a form was sent: empties the draft's `parts` and their fields (ids `${ids}-${part}`). */
export function clearFields(draft, ids, parts) {
  for (const part of parts) {
    draft[part] = '';
    const input = document.getElementById(`${ids}-${part}`);
    if (input) input.value = '';
  }
}

/**
 * A phone's answer to the room (a readiness check, a reflection): sends it; once it is in, the
 * form closes (draft.changing) and focus goes to the part's heading.
 */
export function sendAnswer(actions, cmd, doneText, draft, heading) {
  actions.send(cmd, doneText).then((result) => {
    if (!result) return;
    draft.changing = false;
    actions.refresh();
    document.getElementById(heading)?.focus();
  });
}

/** "Change my answer": opens the answered form again, focus on `selector`. */
export function changeAnswerButton(actions, draft, key, selector) {
  return h('button', {
    type: 'button', class: 'secondary small', 'data-key': key,
    onclick: () => {
      draft.changing = true;
      refreshAndFocus(actions, selector);
    },
  }, t('changeAnswer'));
}

/**
 * A form folded away under its title, which stays open or closed as the person left it when
 * the part is built again (kept in `state.open`).
 */
export function foldedForm(state, title, form) {
  return h('details', { class: 'form-fold', open: Boolean(state.open), ontoggle: (e) => { state.open = e.target.open; } },
    h('summary', {}, title),
    form);
}

/** A group of big choices (radio buttons) with a legend; onChoose(value) when one is chosen. */
export function choices({ name, legend, options, chosen, onChoose, className = 'choices' }) {
  return h('fieldset', { class: className },
    h('legend', {}, legend),
    options.map(({ value, label }) => {
      const id = `${name}-${value}`;
      return h('div', { class: 'choice choice-big' },
        h('input', { type: 'radio', id, name, value, checked: value === chosen, onchange: () => onChoose(value) }),
        h('label', { for: id }, label));
    }));
}

/** Marks the moment a phone first shows the session (the browser tests read it). */
export function markShown() {
  if (!performance.getEntriesByName('tafel:session-shown').length) performance.mark('tafel:session-shown');
}

// --- the floor -----------------------------------------------------------------------------------

/** A participant's display name, or a placeholder when unknown. */
export function personName(store, id) {
  return store.participants.get(id)?.name ?? t('someone');
}

/**
 * The running turn's countdown: the clock ("1:05", or "+0:12" past the limit) in an element
 * with `id`, and next to it the words "over time" while past the limit. The clock ticks on
 * through `tickCountdowns`, without building the screen again.
 */
export function countdownView(store, id, className = 'countdown') {
  const now = countdown(turnRemaining(store.floor, store.floorAt, performance.now()));
  return h('span', { class: `${className}-wrap` },
    h('span', { class: 'sr-only' }, `${t('timeLeft')}: `),
    h('span', { id, class: now.over ? `${className} over` : className, 'data-countdown': '', role: 'timer' }, now.text),
    h('span', { class: 'overtime-label', 'data-overtime': '', hidden: !now.over }, ` ${t('overtime')}`));
}

/** Moves every countdown on the page on to now. Returns the turn's remaining ms (or null). */
export function tickCountdowns(store) {
  const remaining = turnRemaining(store.floor, store.floorAt, performance.now());
  const now = countdown(remaining);
  for (const el of document.querySelectorAll('[data-countdown]')) {
    if (el.textContent !== now.text) el.textContent = now.text;
    el.classList.toggle('over', now.over);
  }
  for (const el of document.querySelectorAll('[data-overtime]')) el.hidden = !now.over;
  return remaining;
}

/**
 * Ticks the countdowns at least four times a second, and just after each moment the shown
 * second changes, so the clock never trails; onTick(remaining, store) after each tick.
 * Returns a handle for stopFloorClock.
 */
export function startFloorClock(getStore, onTick) {
  const handle = { timer: null, stopped: false };
  const tick = () => {
    if (handle.stopped) return;
    const store = getStore();
    let wait = 250;
    if (store?.ready) {
      const remaining = tickCountdowns(store);
      if (onTick) onTick(remaining, store);
      if (remaining !== null && !store.floor?.paused) {
        const toNextSecond = ((remaining % 1000) + 1000) % 1000;
        wait = Math.min(250, toNextSecond + 5);
      }
    }
    handle.timer = setTimeout(tick, Math.max(10, wait));
  };
  handle.timer = setTimeout(tick, 0);
  return handle;
}

/** Stops a clock started with startFloorClock. */
export function stopFloorClock(handle) {
  if (!handle) return;
  handle.stopped = true;
  clearTimeout(handle.timer);
}

/** The balance figure as a number with two decimals, in the screen's language ("0,82"). */
export function figureText(figure) {
  if (figure === null || figure === undefined) return '–';
  return new Intl.NumberFormat(lang(), { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(figure);
}

/** The balance figure in words ("evenly shared"), or a sentence when nobody spoke yet. */
export function figureWords(figure) {
  const word = balanceWord(figure);
  return word ? t(`balance.${word}`) : t('balanceNone');
}

/** Vibrates the phone, where the browser can (not on iPhones; never an error). */
export function vibrate(pattern) {
  try {
    // Browsers only let a page vibrate after the person touched it once; do not even ask before.
    if (navigator.userActivation && !navigator.userActivation.hasBeenActive) return;
    if (navigator.vibrate) navigator.vibrate(pattern);
  } catch {
    // Not allowed here (no tap yet on this page): the screen and the live region still tell.
  }
}
