// Session panel: the session's controls and the way in.
//
// - renderStatus (console): open, locked or ended, with locking, unlocking and ending (which
//   asks first).
// - renderPhases (console): the phase buttons and the current phase explained.
// - renderInvite (console): the join code, QR code and links to share; the projector's link,
//   or a button for a new one. (The facilitator's own link is the console's "open on another
//   device".)
// - renderJoin (projector): the QR code, link and code, large while people are joining.
//
// Needs from the store: session. Render functions take (store, actions, options), see
// ui.js; with actions null there is nothing to press.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { qrUrl } from '../api.js';
import { copyField, phaseBlock, refreshAndFocus } from '../ui.js';
import { isEnded, PHASES } from '../model.js';

/** The words for a session's status. */
export const STATUS_WORDS = { open: 'statusOpen', locked: 'statusLocked', ended: 'statusEnded' };

/** The join code's QR image, `size` pixels square. */
function qrImage(session, size) {
  return h('img', { class: 'qr', src: qrUrl(session.code), alt: t('qrAlt'), width: size, height: size });
}

/** The join code in large letters. */
function joinCode(session) {
  return h('p', { class: 'join-code', id: 'join-code' }, session.code);
}

/**
 * The session's status with lock, unlock, end and delete. options: { view: { confirmEnd,
 * confirmDelete } } (the question "end the session?" is open; deleting asks twice: step 1,
 * then step 2). actions: send, deleteSession().
 */
export function renderStatus(store, actions, { view = {} } = {}) {
  const status = store.session.status;
  const buttons = actions ? statusButtons(actions, status, view) : [];
  return h('section', { class: 'panel', 'aria-labelledby': 'session-heading' },
    h('h2', { id: 'session-heading' }, t('sessionHeading')),
    h('p', { class: `status status-${status}`, id: 'session-status', 'data-status': status }, t(STATUS_WORDS[status])),
    buttons.length ? h('div', { class: 'row' }, buttons) : null,
    actions && view.confirmEnd && status !== 'ended' ? endConfirm(actions, view) : null,
    actions?.deleteSession ? deleteControls(actions, view) : null);
}

/**
 * Deleting the session for good: a button, then two questions, each with a way back. The
 * second says plainly what goes; only its yes deletes.
 */
function deleteControls(actions, view) {
  const step = view.confirmDelete || 0;
  const cancel = () => h('button', {
    type: 'button', class: 'secondary', 'data-key': `delete-no-${step}`,
    onclick: () => {
      view.confirmDelete = 0;
      refreshAndFocus(actions, '[data-key="delete"]');
    },
  }, t('cancelButton'));
  if (step === 0) {
    return h('div', { class: 'row delete-session' },
      h('button', {
        type: 'button', class: 'danger-outline', 'data-key': 'delete',
        onclick: () => {
          view.confirmDelete = 1;
          refreshAndFocus(actions, '[data-key="delete-no-1"]');
        },
      }, t('deleteButton')));
  }
  const question = step === 1 ? t('deleteConfirm1') : t('deleteConfirm2');
  return h('div', { class: 'confirm delete-confirm', role: 'group', 'aria-labelledby': 'delete-confirm' },
    h('p', { id: 'delete-confirm' }, question),
    h('div', { class: 'row' },
      h('button', {
        type: 'button', class: 'danger', 'data-key': `delete-yes-${step}`,
        onclick: () => {
          if (step === 1) {
            view.confirmDelete = 2;
            refreshAndFocus(actions, '[data-key="delete-no-2"]');
          } else {
            view.confirmDelete = 0;
            actions.deleteSession();
          }
        },
      }, step === 1 ? t('deleteYes1') : t('deleteYes2')),
      cancel()));
}

function statusButtons(actions, status, view) {
  const buttons = [];
  if (status === 'open') buttons.push(h('button', { type: 'button', class: 'secondary', 'data-key': 'lock', onclick: () => actions.send({ type: 'lock' }, t('statusLocked')) }, t('lockButton')));
  if (status === 'locked') buttons.push(h('button', { type: 'button', class: 'secondary', 'data-key': 'unlock', onclick: () => actions.send({ type: 'unlock' }, t('statusOpen')) }, t('unlockButton')));
  if (status !== 'ended' && !view.confirmEnd) {
    buttons.push(h('button', {
      type: 'button', class: 'danger-outline', 'data-key': 'end',
      onclick: () => {
        view.confirmEnd = true;
        refreshAndFocus(actions, '[data-key="end-no"]');
      },
    }, t('endButton')));
  }
  return buttons;
}

/** "End the session for everyone?" with yes and cancel. */
function endConfirm(actions, view) {
  return h('div', { class: 'confirm', role: 'group', 'aria-labelledby': 'end-confirm' },
    h('p', { id: 'end-confirm' }, t('endConfirm')),
    h('div', { class: 'row' },
      h('button', {
        type: 'button', class: 'danger', 'data-key': 'end-yes',
        onclick: () => {
          view.confirmEnd = false;
          actions.send({ type: 'end' }, t('statusEnded'));
        },
      }, t('endYes')),
      h('button', {
        type: 'button', class: 'secondary', 'data-key': 'end-no',
        onclick: () => {
          view.confirmEnd = false;
          refreshAndFocus(actions, '[data-key="end"]');
        },
      }, t('cancelButton'))));
}

/** The phases to move through, the current one pressed, and what it is about. */
export function renderPhases(store, actions) {
  const current = store.session.phase;
  return h('section', { class: 'panel phase-panel', 'aria-labelledby': 'phase-heading' },
    h('h2', { id: 'phase-heading' }, t('phaseHeading')),
    actions ? h('div', { class: 'phase-buttons' },
      PHASES.map((n) => h('button', {
        type: 'button', class: n === current ? 'phase-button current' : 'phase-button',
        'data-key': `phase-${n}`, 'aria-pressed': String(n === current), disabled: isEnded(store),
        onclick: () => {
          if (n !== current) actions.send({ type: 'set_phase', phase: n }, t('phaseChanged', { n }));
        },
      }, h('span', { class: 'phase-button-number' }, String(n)), h('span', {}, t(`phase.${n}`))))) : null,
    phaseBlock(current, { headingLevel: 'h3' }));
}

/**
 * Inviting people. options: { links: { projector (null when this device does not know it) } }. actions: newProjectorLink(). Read-only: the code, the QR code and the join
 * link as text.
 */
export function renderInvite(store, actions, { links = {} } = {}) {
  const session = store.session;
  return h('section', { class: 'panel invite', 'aria-labelledby': 'invite-heading' },
    h('h2', { id: 'invite-heading' }, t('inviteHeading')),
    h('div', { class: 'invite-grid' },
      h('div', {},
        h('p', { class: 'label' }, t('joinCodeLabel')),
        joinCode(session)),
      qrImage(session, 160)),
    actions ? [
      copyField('join-link', t('joinLinkLabel'), session.join_url),
      links.projector
        ? copyField('projector-link', t('projectorLinkLabel'), links.projector)
        : h('div', {},
          h('p', { class: 'hint' }, t('projectorLinkUnknown')),
          h('button', { type: 'button', class: 'secondary', 'data-key': 'projector-link', onclick: actions.newProjectorLink }, t('projectorLinkNew'))),
    ] : h('p', { class: 'join-url' }, linkText(session.join_url)));
}

/**
 * A link as text that may wrap only after a slash or a dot: never inside a name, the port or
 * the code, which someone reads off the screen and types.
 */
function linkText(link) {
  return link.split(/(?<=[/.])/).flatMap((part, i) => (i ? [h('wbr', {}), part] : [part]));
}

/** The way in on the big screen; `large` while people are still joining. */
export function renderJoin(store, actions, { large = false } = {}) {
  const session = store.session;
  const link = session.join_url.replace(/^https?:\/\//, '');
  return h('section', { class: large ? 'join-panel large' : 'join-panel', 'aria-label': t('inviteHeading') },
    qrImage(session, large ? 320 : 120),
    h('div', { class: 'join-text' },
      h('p', {}, t('projectorJoin')),
      h('p', { class: 'join-url' }, linkText(link)),
      h('p', {}, t('projectorCode')),
      joinCode(session),
      large ? h('p', { class: 'hint' }, t('projectorOrScan')) : null));
}
