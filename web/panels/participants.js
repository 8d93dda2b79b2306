// Participants panel (console): everyone who joined, with their perspective (or role) and
// whether they are online now (not in a replay); the heading counts the participants (not the
// facilitator).
//
// Needs from the store: participants. Nothing to press: actions are not used.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { participants } from '../model.js';

/** options: { presence (false: a past moment, where who was connected is not known) }. */
export function renderParticipants(store, actions, { presence = true } = {}) {
  const all = [...store.participants.values()];
  const count = participants(store).length;
  return h('section', { class: 'panel', 'aria-labelledby': 'participants-heading' },
    h('h2', { id: 'participants-heading' }, t('participantsHeading', { n: count })),
    count === 0 ? h('p', { class: 'empty' }, t('noParticipants')) : null,
    h('ul', { class: 'people', id: 'people' }, all.map((p) => h('li', { class: 'person', 'data-participant': p.id },
      h('span', { class: 'person-name' }, p.name),
      personRole(p),
      presence ? h('span', { class: p.online ? 'presence on' : 'presence off' }, p.online ? t('isOnline') : t('isOffline')) : null))));
}

/** A person's perspective, or "facilitator" (unless their name already says so). */
function personRole(p) {
  const label = p.role === 'facilitator' ? t('facilitatorRole') : t(`perspective.${p.perspective}`);
  if (label.toLowerCase() === p.name.trim().toLowerCase()) return null;
  return h('span', { class: 'person-perspective' }, label);
}
