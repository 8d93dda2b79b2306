// Afterwards panel, the console's side: the replay and the report.
//
// - renderAfterwards: the way to this session's replay and report (this device's facilitator
//   token opens them); making a read-only replay link to share, and the links made, each with
//   revoking it; and whether participants find the report on their phones once the session
//   has ended. All of it works during the session and after its end (an ended session takes
//   these commands and no others), so a leaked link can be revoked at any time.
//
// Needs from the store: session (code, share_report, status), replay_links. Render functions
// take (store, actions, options), see ui.js; with actions null there is nothing to press.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { copyField } from '../ui.js';
import { all, timeOfDay } from '../model.js';

/**
 * options: { urls (Map link id → its address, for the links made on this device: the server
 * keeps only their hashes) }. actions: send, makeReplayLink().
 */
export function renderAfterwards(store, actions, { urls = new Map() } = {}) {
  const code = encodeURIComponent(store.session.code);
  const act = Boolean(actions);
  const links = all(store, 'replay_links');
  const open = (id, href, text) => h('a', { class: 'button secondary', id, href, target: '_blank', rel: 'noopener' },
    text, h('span', { class: 'sr-only' }, ` (${t('newTab')})`));
  return h('section', { class: 'panel afterwards', id: 'afterwards', 'aria-labelledby': 'afterwards-heading' },
    h('h2', { id: 'afterwards-heading' }, t('afterwardsHeading')),
    h('p', { class: 'hint' }, t('afterwardsIntro')),
    h('div', { class: 'row' }, open('open-replay', `/r/${code}`, t('openReplay')), open('open-report', `/r/${code}?report`, t('openReport'))),
    h('h3', { id: 'replay-links-heading' }, t('replayLinksHeading')),
    h('p', { class: 'hint' }, t('replayLinksIntro')),
    links.length ? h('ul', { class: 'replay-links', id: 'replay-links', 'aria-labelledby': 'replay-links-heading' }, links.map((link) => {
      const url = urls.get(link.id);
      return h('li', { class: 'replay-link', 'data-link': link.id, 'data-revoked': link.revoked_at ? 'true' : 'false' },
        h('p', { class: 'replay-link-when', id: `replay-link-${link.id}` },
          t('replayLinkMade', { time: timeOfDay(link.made_at) }),
          link.revoked_at ? [' ', h('span', { class: 'badge' }, t('replayLinkRevoked', { time: timeOfDay(link.revoked_at) }))] : null),
        url && !link.revoked_at ? copyField(`replay-url-${link.id}`, t('replayLinkLabel'), url) : null,
        act && !link.revoked_at ? h('button', {
          type: 'button', class: 'danger-outline small', 'data-key': `revoke-${link.id}`, 'aria-describedby': `replay-link-${link.id}`,
          onclick: () => actions.send({ type: 'revoke_replay', link: link.id }, t('replayLinkRevokedDone')),
        }, t('revokeReplayLink')) : null);
    })) : null,
    act ? h('button', { type: 'button', class: 'secondary', id: 'make-replay-link', 'data-key': 'make-replay-link', onclick: actions.makeReplayLink }, t('makeReplayLink')) : null,
    h('div', { class: 'choice share-report' },
      h('input', {
        type: 'checkbox', id: 'share-report', checked: Boolean(store.session.share_report), disabled: !act, 'aria-describedby': 'share-report-hint',
        onchange: (e) => actions.send({ type: 'share_report', share: e.target.checked }, e.target.checked ? t('reportShared') : t('reportNotSharedDone')),
      }),
      h('label', { for: 'share-report' }, t('shareReportLabel'))),
    h('p', { class: 'hint', id: 'share-report-hint' }, t('shareReportHint')));
}
