// What the replay and the report screens share: which token this device reads a session's
// history with, the timeline, its moments and the report over HTTP, the downloads, the
// stylesheet of these screens, and their head with the way from one to the other. Only
// those screens load it: a phone's join screen never downloads it.

import { h, replace } from './dom.js';
import { t } from './i18n.js';
import { getToken, forgetToken, request, fetchOk, takeTokenFromFragment } from './api.js';
import { errorText } from './ui.js';

const base = (code) => `/api/sessions/${encodeURIComponent(code)}`;

// --- who reads ---------------------------------------------------------------------------------

/** Which kind of token this tab reads a session with, once it came with a replay link. */
const readingKey = (code) => `tafel:reading:${code}`;

/**
 * The token this device reads the session's history with: { kind, token }, or null. A replay
 * link brings its token after `#`: it is kept as 'replay', and this tab goes on reading as the
 * link's holder (a reload too). Otherwise the facilitator's own token comes first, then a
 * replay link kept earlier, and for the report (`report`) a participant's own token.
 */
export function reader(code, { report = false } = {}) {
  // Another link opened in this tab differs only after #, which loads no page: load it.
  window.addEventListener('hashchange', () => location.reload(), { once: true });
  if (location.hash.length > 1) {
    takeTokenFromFragment('replay', code);
    try {
      sessionStorage.setItem(readingKey(code), 'replay');
    } catch {
      // Private mode: the link's token still comes first on this page.
    }
  }
  let asLink = location.hash.length > 1;
  try {
    asLink = asLink || sessionStorage.getItem(readingKey(code)) === 'replay';
  } catch {
    // Nothing kept.
  }
  const kinds = asLink ? ['replay', 'facilitator'] : ['facilitator', 'replay'];
  if (report) kinds.push('participant');
  for (const kind of kinds) {
    const token = getToken(kind, code);
    if (token) return { kind, token };
  }
  return null;
}

// --- over HTTP ---------------------------------------------------------------------------------

/**
 * Loads these screens' stylesheet and what `get(code, token)` fetches for `who` (a reader);
 * a replay link that no longer works is forgotten on this device. Resolves to { value } or
 * { error } (an ApiError).
 */
export async function readHistory(code, who, get) {
  await historyStyles();
  try {
    return { value: await get(code, who.token) };
  } catch (error) {
    if (error.code === 'bad_token' && who.kind === 'replay') forgetToken('replay', code);
    return { error };
  }
}

/** GET …/replay: the ReplayTimeline. */
export function getTimeline(code, token) {
  return request('GET', `${base(code)}/replay`, null, token);
}

/** GET …/replay/{n}: the ReplayMoment after change n. */
export function getMoment(code, token, n) {
  return request('GET', `${base(code)}/replay/${n}`, null, token);
}

/** GET …/report: the Report. */
export function getReport(code, token) {
  return request('GET', `${base(code)}/report`, null, token);
}

/** What can be taken home: the report as JSON, its cards and votes as CSV, and (the
 * facilitator and replay links) the raw automerge file. */
export const FILES = {
  json: { path: 'report', name: (code) => `tafel-${code}.json` },
  csv: { path: 'report.csv', name: (code) => `tafel-${code}.csv` },
  automerge: { path: 'session.automerge', name: (code) => `tafel-${code}.automerge` },
};

/**
 * Downloads a file (a key of FILES). The token goes in a header, so the file is fetched here
 * and handed to the browser as a Blob behind a temporary <a download>. Rejects with an
 * ApiError when it cannot be had.
 */
export async function download(code, token, file) {
  const response = await fetchOk('GET', `${base(code)}/${FILES[file].path}`, null, token);
  const url = URL.createObjectURL(await response.blob());
  const link = h('a', { href: url, download: FILES[file].name(code), hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has taken the file once the click is handled; let it go a little later.
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// --- the page ----------------------------------------------------------------------------------

let styles = null;

/** Loads these screens' stylesheet (once); resolves when it is there (or could not come). */
function historyStyles() {
  styles ||= new Promise((resolve) => {
    const link = h('link', { rel: 'stylesheet', href: '/app/history.css' });
    link.addEventListener('load', resolve);
    link.addEventListener('error', resolve);
    document.head.append(link);
  });
  return styles;
}

/**
 * The head of both screens: what it is, the session's title, and the way to the other
 * screen (not for a participant, who reads the report only). current: 'replay' | 'report'.
 */
export function historyHead(title, { code, current, reportOnly = false }) {
  const link = (name, href, text) => h('a', {
    class: name === current ? 'history-tab current' : 'history-tab', href, 'aria-current': name === current ? 'page' : null,
  }, text);
  return h('div', { class: 'session-head history-head' },
    h('p', { class: 'eyebrow' }, current === 'report' ? t('reportHeading') : t('replayHeading')),
    h('h1', { id: 'history-title', tabindex: '-1' }, title),
    reportOnly ? null : h('nav', { class: 'history-nav', 'aria-label': t('historyNav') },
      link('replay', `/r/${encodeURIComponent(code)}`, t('replayTab')),
      link('report', `/r/${encodeURIComponent(code)}?report`, t('reportTab'))));
}

/** While the history is on its way. */
export function showLoading(main) {
  replace(main, h('p', { class: 'loading', role: 'status' }, t('loadingHistory')));
}

/** Plain words for why the history cannot be read (an ApiError's code) by `kind` of reader. */
export function historyErrorText(error, { report = false, kind = null } = {}) {
  if (error.code === 'bad_token') return kind === 'replay' ? t('replayLinkGone') : t('badLink');
  if (error.code === 'forbidden') return report ? t('reportNotShared') : t('replayForbidden');
  if (error.code === 'session_not_found') return t('noSession');
  return errorText(error);
}
