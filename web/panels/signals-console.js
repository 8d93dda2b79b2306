// Signals panel (console): what needs the facilitator now, in one line at the top of the
// console, where they look: hands raised, reports not decided yet, and phones that went
// offline. Each signal that has a panel further down links to it.
//
// Needs from the store: floor (the queue), reports, participants (presence). Nothing to press
// but the links.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { participants } from '../model.js';

/** The signals, or a quiet "nothing needs you" line. */
export function renderSignals(store) {
  const hands = store.floor?.queue?.filter((e) => e.hand).length || 0;
  const reports = [...(store.reports?.values() || [])].filter((r) => r.status === 'open').length;
  const offline = participants(store).filter((p) => !p.online);
  const items = [
    hands ? h('li', { class: 'signal signal-hands', 'data-signal': 'hands', 'data-n': hands }, t('signalHands', { n: hands })) : null,
    reports ? h('li', { class: 'signal signal-reports', 'data-signal': 'reports', 'data-n': reports },
      h('a', { href: '#reports' }, t('signalReports', { n: reports }))) : null,
    offline.length ? h('li', { class: 'signal signal-offline', 'data-signal': 'offline', 'data-n': offline.length },
      t('signalOffline', { names: offline.map((p) => p.name).join(', ') })) : null,
  ].filter(Boolean);
  return h('div', { class: 'signals', id: 'signals', role: 'status', 'aria-label': t('signalsLabel') },
    items.length ? h('ul', { class: 'signal-list' }, items) : h('p', { class: 'signal-none' }, t('signalNone')));
}
