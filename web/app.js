// Boot and routing. One page shell serves every screen; the path says which one:
//   /          home: join with a code, or start a new session
//   /j/CODE    join, then the participant screen (phone)
//   /f/CODE    facilitator console (token after # the first time)
//   /p/CODE    projector (token after # the first time)
//   /r/CODE    replay (a replay link's token after # the first time, or the facilitator's);
//              /r/CODE?report the report

import { h } from './dom.js';
import { onChange, t } from './i18n.js';
import { cleanCode } from './api.js';
import { buildFrame, homeLink, messagePage, setTitle } from './ui.js';

// Each screen is loaded only on its own page, so a phone does not download the facilitator
// console. index.html preloads the phone's modules (join, participant and the panels it uses)
// with the shared ones.
const ROUTES = [
  [/^\/$/, () => import('./screens/home.js')],
  [/^\/j\/([A-Za-z0-9-]+)\/?$/, () => import('./screens/join.js')],
  [/^\/f\/([A-Za-z0-9-]+)\/?$/, () => import('./screens/facilitator.js')],
  [/^\/p\/([A-Za-z0-9-]+)\/?$/, () => import('./screens/projector.js')],
  [/^\/r\/([A-Za-z0-9-]+)\/?$/, () => (new URLSearchParams(location.search).has('report')
    ? import('./screens/report.js') : import('./screens/replay.js'))],
];

const notFound = {
  start(main) {
    const render = () => {
      setTitle(t('notFound'));
      main.replaceChildren(messagePage(t('notFound'), homeLink()));
    };
    render();
    return { render };
  },
};

function route(pathname) {
  for (const [pattern, load] of ROUTES) {
    const match = pathname.match(pattern);
    if (match) return { load, params: { code: match[1] ? cleanCode(match[1]) : null } };
  }
  return { load: async () => notFound, params: {} };
}

async function boot() {
  const app = document.getElementById('app');
  const { load, params } = route(location.pathname);
  let screen;
  try {
    screen = await load();
  } catch {
    // The module did not arrive (a flaky network): offer to try again.
    const main = buildFrame(app);
    main.replaceChildren(messagePage(t('cannotLoad'), h('button', { type: 'button', class: 'primary', onclick: () => location.reload() }, t('retry'))));
    return;
  }
  document.documentElement.classList.add(`screen-${screen.NAME || 'none'}`);
  const main = buildFrame(app);
  const current = screen.start(main, params);
  onChange(() => {
    // The frame and the screen are built again in the new language; the screen keeps its
    // state (drafts, connection), so nothing typed is lost.
    const focusedId = document.activeElement?.id;
    buildFrame(app, main);
    current.render();
    if (focusedId) document.getElementById(focusedId)?.focus();
  });
}

// A link with its secret pasted into the address bar of a page already open at the same
// address (the console's "this address misses its secret part") changes only the fragment:
// start again, so the screen takes the secret in.
// (In-page links such as "#main" are not secrets: a token is 43 URL-safe characters.)
window.addEventListener('hashchange', () => {
  if (/^\/[fpr]\//.test(location.pathname) && /^#[A-Za-z0-9_-]{43}$/.test(location.hash)) location.reload();
});

boot();
