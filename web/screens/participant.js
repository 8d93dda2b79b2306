// Participant (phone, 360 px, one hand): the floor first (who speaks, one's own hand and place
// in the queue, one's own turn with its countdown), then the session, the current phase, its
// cards, adding and changing one's own cards, voting with the remaining budget always in view,
// and the ground rules: agreeing to them, and reporting when one is broken.

import { h, replace } from '../dom.js';
import { t, suggest } from '../i18n.js';
import { forgetToken } from '../api.js';
import {
  field, errorText, messagePage, phaseBlock, ranking, announce, showError, showConnection, setTitle, markShown,
  personName, countdownView, startFloorClock, stopFloorClock, vibrate,
} from '../ui.js';
import {
  openRound, lastClosedRound, isOwnCard, authorName, myVotes, totalFor, kindForPhase,
  CARD_KINDS, CARD_MAX, charCount,
  queuePlace, ownShare, percent, responsesLeft, canRespond, ruleById, mustAnswerRules, warningKey, timeOfDay,
  clock, NEAR_END_MS, NOTE_MAX,
  serverNow,
} from '../model.js';

export const NAME = 'participant';

export function start(main, { conn, onForgotten }) {
  const draft = { text: '', kind: null, editText: '' };
  let editing = null; // id of the own card being changed
  let confirmWithdraw = null; // id of the own card waiting for "yes, withdraw"
  let final = null;
  let shownPhase = null;
  let shownRound; // id of the open round last shown (null: none), to announce changes
  let focusedTitle = false;
  let regions = null;
  // The floor: what was last said about it (for the live region and the vibration), and the
  // report form's draft.
  const floorSeen = { turn: undefined, mine: false, place: null, nearEnd: null, warnings: null };
  const flagDraft = { open: false, rule: '', about: '', note: '', anonymous: false, error: null, busy: false };
  const closedWarnings = loadClosedWarnings(conn.code);

  window.__tafel = conn.testHooks();
  showConnection(conn);
  const clockTimer = startFloorClock(() => conn.store, onClockTick);

  conn.on('change', () => {
    // Speak the session's language, unless this person chose one or the phone is in English.
    if (conn.store.session) suggest(conn.store.session.language);
    update();
  });
  conn.on('error', (err) => showError(errorText(err)));
  conn.on('final', (err) => {
    if (err.code === 'bad_token') {
      stopFloorClock(clockTimer);
      conn.close();
      onForgotten();
      return;
    }
    if (err.code === 'session_not_found') forgetToken('participant', conn.code);
    final = err;
    render();
  });

  const store = () => conn.store;
  const ended = () => store().session?.status === 'ended';

  /** Sends a command; an error is shown in plain words. Resolves to the result or null. */
  async function run(cmd, doneText) {
    try {
      const result = await conn.send(cmd);
      if (doneText) announce(doneText);
      return result;
    } catch (err) {
      showError(errorText(err));
      return null;
    }
  }

  // --- adding and changing cards ----------------------------------------------------------

  function onAdd(event) {
    event.preventDefault();
    const text = draft.text.trim();
    if (!text) {
      showError(t('cardEmpty'));
      document.getElementById('card-text').focus();
      return;
    }
    const kind = draft.kind || kindForPhase(store().session.phase);
    draft.text = '';
    const textarea = document.getElementById('card-text');
    textarea.value = '';
    updateCounter(textarea, 'card-text-count');
    run({ type: 'add_card', text, kind }, t('cardAdded')).then((result) => {
      if (!result && !draft.text) {
        // Refused: give the text back so nothing typed is lost.
        draft.text = text;
        const again = document.getElementById('card-text');
        if (again) {
          again.value = text;
          updateCounter(again, 'card-text-count');
        }
      }
    });
  }

  function startEdit(card) {
    editing = card.id;
    confirmWithdraw = null;
    draft.editText = card.text || '';
    renderForm();
    update();
    const textarea = document.getElementById('edit-text');
    textarea.focus();
    textarea.scrollIntoView({ block: 'center' });
  }

  function stopEdit() {
    const id = editing;
    editing = null;
    renderForm();
    update();
    document.querySelector(`[data-key="edit-${CSS.escape(id)}"]`)?.focus();
  }

  function onSaveEdit(event) {
    event.preventDefault();
    const text = draft.editText.trim();
    if (!text) {
      showError(t('cardEmpty'));
      return;
    }
    run({ type: 'edit_card', card: editing, text }, t('cardSaved'));
    stopEdit();
  }

  function updateCounter(textarea, counterId) {
    const counter = document.getElementById(counterId);
    if (counter) counter.textContent = t('charsLeft', { n: charCount(textarea.value), max: CARD_MAX });
  }

  function addForm() {
    const phase = store().session.phase;
    const kind = draft.kind || kindForPhase(phase);
    return h('form', { class: 'panel add-card', id: 'add-card-form', novalidate: true, onsubmit: onAdd, 'aria-labelledby': 'add-card-heading' },
      h('h2', { id: 'add-card-heading' }, t('addCardHeading')),
      field({
        id: 'card-text', label: t('cardTextLabel'),
        control: h('textarea', {
          name: 'text', rows: 3, maxlength: CARD_MAX, value: draft.text,
          'aria-describedby': 'card-text-count',
          oninput: (event) => {
            draft.text = event.target.value;
            updateCounter(event.target, 'card-text-count');
          },
        }),
        extra: h('p', { class: 'counter', id: 'card-text-count' }, t('charsLeft', { n: charCount(draft.text), max: CARD_MAX })),
      }),
      h('div', { class: 'row' },
        field({
          id: 'card-kind', label: t('cardKindLabel'),
          control: h('select', {
            name: 'kind', onchange: (event) => {
              draft.kind = event.target.value;
            },
          }, CARD_KINDS.map((k) => h('option', { value: k, selected: k === kind }, t(`kind.${k}`)))),
        }),
        h('button', { type: 'submit', class: 'primary', id: 'add-card-button' }, t('addCardButton'))));
  }

  function editForm() {
    return h('form', { class: 'panel add-card editing', id: 'edit-card-form', novalidate: true, onsubmit: onSaveEdit, 'aria-labelledby': 'edit-card-heading' },
      h('h2', { id: 'edit-card-heading' }, t('editCardHeading')),
      field({
        id: 'edit-text', label: t('cardTextLabel'),
        control: h('textarea', {
          name: 'text', rows: 4, maxlength: CARD_MAX, value: draft.editText,
          oninput: (event) => {
            draft.editText = event.target.value;
            updateCounter(event.target, 'edit-text-count');
          },
        }),
        extra: h('p', { class: 'counter', id: 'edit-text-count' }, t('charsLeft', { n: charCount(draft.editText), max: CARD_MAX })),
      }),
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'primary' }, t('saveButton')),
        h('button', { type: 'button', class: 'secondary', onclick: stopEdit }, t('cancelButton'))));
  }

  // The form is built only when needed (not on every change in the room), so typing — with a
  // phone keyboard's word suggestions too — is never interrupted by someone else's card.
  function renderForm() {
    if (!regions) return;
    if (ended()) replace(regions.form);
    else replace(regions.form, editing ? editForm() : addForm());
  }

  // --- voting --------------------------------------------------------------------------------

  function vote(round, card, votes) {
    const mine = votes.perCard.get(card.id) || 0;
    if (votes.remaining <= 0) return showError(t('noVotesLeft'));
    if (mine >= round.max_per_card) return showError(t('maxOnCard', { max: round.max_per_card }));
    run({ type: 'vote', round: round.id, card: card.id }).then((result) => {
      if (result) announceVotes(round);
    });
    return undefined;
  }

  function unvote(round, card, votes) {
    if (!(votes.perCard.get(card.id) > 0)) return;
    run({ type: 'unvote', round: round.id, card: card.id }).then((result) => {
      if (result) announceVotes(round);
    });
  }

  function announceVotes(round) {
    const votes = myVotes(store(), round, conn.pending());
    announce(t('votesLeft', { n: votes.remaining, budget: round.budget }));
  }

  function voteControls(round, card, votes) {
    const mine = votes.perCard.get(card.id) || 0;
    const cannotAdd = votes.remaining <= 0 || mine >= round.max_per_card;
    const textId = `card-text-${card.id}`;
    return h('div', { class: 'vote', role: 'group', 'aria-label': t('roundOpenHeading') },
      h('button', {
        type: 'button', class: 'vote-button', 'data-key': `unvote-${card.id}`, 'aria-label': t('unvoteFor'),
        'aria-describedby': textId, 'aria-disabled': mine === 0 ? 'true' : null,
        onclick: () => unvote(round, card, votes),
      }, '−'),
      h('span', { class: 'vote-count', 'data-votes': mine },
        h('span', { 'aria-hidden': 'true' }, String(mine)),
        h('span', { class: 'sr-only' }, t('yourVotes', { n: mine }))),
      h('button', {
        type: 'button', class: 'vote-button', 'data-key': `vote-${card.id}`, 'aria-label': t('voteFor'),
        'aria-describedby': textId, 'aria-disabled': cannotAdd ? 'true' : null,
        onclick: () => vote(round, card, votes),
      }, '+'),
      round.results ? h('span', { class: 'vote-total' }, t('totalVotes', { n: totalFor(round, card.id) })) : null);
  }


  // --- the floor ----------------------------------------------------------------------------------

  const me = () => store().you?.id;
  const yourFloor = () => store().you?.floor || {};

  function floorCommand(cmd, doneText) {
    run(cmd, doneText).then((result) => {
      if (result) update();
    });
  }

  /** Whose turn it is, with a small countdown; or who speaks next. */
  function speakerLine(floor) {
    const turn = floor.turn;
    if (!turn) return h('p', { class: 'speaker-line', id: 'speaker-line' }, t('nobodySpeaks'));
    return h('p', { class: 'speaker-line', id: 'speaker-line' },
      h('span', { class: 'speaker-name' }, t('speaksNow', { name: personName(store(), turn.speaker) })),
      ' ',
      countdownView(store(), 'speaker-countdown', 'countdown-small'));
  }

  /** The container shown while this person has the floor: a big countdown and "I am done". */
  function myTurn(floor) {
    const turn = floor.turn;
    return h('div', { class: 'my-turn', id: 'my-turn', 'data-turn': turn.id },
      h('p', { class: 'my-turn-title' }, turn.kind === 'response' ? t('yourResponseNow') : t('yourTurnNow')),
      h('p', { class: 'my-turn-clock' }, countdownView(store(), 'turn-countdown', 'countdown-big')),
      h('p', { class: 'my-turn-hint' }, t('turnLimit', { time: clock(turn.limit_ms / 1000) })),
      h('button', {
        type: 'button', class: 'primary wide', id: 'end-turn', 'data-key': 'end-turn',
        onclick: () => floorCommand({ type: 'end_turn' }, t('turnEndedByYou')),
      }, t('endMyTurn')));
  }

  /** My place in the queue and why, in plain words. */
  function placeText(place, floor) {
    if (!place) return null;
    const where = place.place === 1 ? t('placeNext') : t('placeN', { n: place.place });
    const reason = t(`reason.${place.entry.reason}`, { factor: floor.settings.fair_share });
    return h('p', { class: 'queue-place', id: 'queue-place', 'data-place': place.place, 'data-reason': place.entry.reason },
      h('strong', {}, where), ' ', h('span', { class: 'queue-reason' }, reason));
  }

  function handButtons(floor, place) {
    // One's own hand comes from one's own data: the queue may not list it (far down the line,
    // or waiting after a report).
    const hand = yourFloor().hand || null;
    const buttons = [];
    if (hand) {
      buttons.push(h('button', {
        type: 'button', class: 'secondary big-button', id: 'lower-hand', 'data-key': 'lower-hand',
        onclick: () => floorCommand({ type: 'lower_hand' }, t('handLowered')),
      }, hand === 'response' ? t('lowerResponse') : t('lowerHand')));
    } else if (floor.settings.order !== 'round') {
      buttons.push(h('button', {
        type: 'button', class: 'primary big-button', id: 'raise-hand', 'data-key': 'raise-hand',
        onclick: () => floorCommand({ type: 'raise_hand', kind: 'hand' }, t('handRaised')),
      }, t('raiseHand')));
    }
    if (floor.settings.order === 'round' && place && !hand && !yourFloor().passed) {
      buttons.push(h('button', {
        type: 'button', class: 'secondary big-button', id: 'pass-turn', 'data-key': 'pass-turn',
        onclick: () => floorCommand({ type: 'pass' }, t('passed')),
      }, t('passButton')));
    }
    let responseHint = null;
    if (canRespond(floor, me()) && hand !== 'response') {
      const left = responsesLeft(floor, yourFloor());
      buttons.push(h('button', {
        type: 'button', class: 'secondary big-button', id: 'raise-response', 'data-key': 'raise-response',
        'aria-describedby': 'response-hint', 'aria-disabled': left <= 0 ? 'true' : null,
        onclick: () => {
          if (left <= 0) return showError(t('error.response_cap'));
          return floorCommand({ type: 'raise_hand', kind: 'response' }, t('responseRaised'));
        },
      }, t('raiseResponse')));
      responseHint = h('p', { class: 'hint', id: 'response-hint' },
        left > 0 ? t('responsesLeft', { n: left }) : t('noResponsesLeft'));
    }
    return [buttons.length ? h('div', { class: 'hand-buttons' }, buttons) : null, responseHint];
  }

  function shareLine(floor) {
    const share = ownShare(floor, yourFloor());
    let text;
    if (share.turns === 0) text = t('shareNone');
    else if (share.minutes < 1) text = t('shareUnderMinute', { pct: percent(share.fraction) });
    else text = t('shareMinutes', { min: share.minutes, pct: percent(share.fraction) });
    return h('p', { class: 'share', id: 'my-share', 'data-floor-ms': share.ms }, text);
  }

  function floorSection() {
    const s = store();
    const floor = s.floor;
    if (!floor) return null;
    const turn = floor.turn;
    const mine = Boolean(turn && turn.speaker === me());
    const place = queuePlace(floor, me());
    const waitUntil = yourFloor().hand_wait_until;
    const serverTime = serverNow(floor, s.floorAt, performance.now());
    const canAct = !ended();
    const handUnlisted = !place && yourFloor().hand && !(waitUntil > serverTime);
    return h('section', { class: mine ? 'panel floor speaking' : 'panel floor', id: 'floor', 'aria-labelledby': 'floor-heading' },
      h('h2', { id: 'floor-heading', tabindex: '-1', class: mine ? 'sr-only' : null }, t('floorHeading')),
      floor.paused ? h('p', { class: 'floor-paused', id: 'floor-paused' }, t('floorPaused')) : null,
      mine && canAct ? myTurn(floor) : speakerLine(floor),
      !mine && canAct ? placeText(place, floor) : null,
      !mine && canAct && handUnlisted ? h('p', { class: 'queue-place', id: 'queue-place', 'data-place': 'later' }, t('placeLater', { n: floor.waiting })) : null,
      !mine && canAct && floor.settings.order === 'round' && !place
        ? h('p', { class: 'hint' }, yourFloor().passed ? t('roundPassed') : t('roundNotInQueue')) : null,
      !mine && canAct ? handButtons(floor, place) : null,
      waitUntil && waitUntil > serverTime
        ? h('p', { class: 'hand-wait', id: 'hand-wait' }, t('handWaitsUntil', { time: timeOfDay(waitUntil - serverTime + Date.now()) })) : null,
      // "Not spoken yet" is said once: by the reason of one's place, or here.
      (mine && canAct) || place?.entry.reason === 'not_spoken_yet' ? null : shareLine(floor));
  }

  /** Tells screen-reader users (and the hand, by vibrating) what changed on the floor. */
  function noticeFloor() {
    const floor = store().floor;
    if (!floor) return;
    const turn = floor.turn;
    const mine = Boolean(turn && turn.speaker === me());
    const place = mine ? null : queuePlace(floor, me())?.place ?? null;
    const turnId = turn ? turn.id : null;
    if (floorSeen.turn !== undefined && turnId !== floorSeen.turn) {
      if (mine) {
        announce(t('yourTurnAnnounce', { time: clock(turn.limit_ms / 1000) }));
        vibrate([200, 100, 200]);
      } else if (floorSeen.mine) {
        announce(t('yourTurnOver'));
      }
    } else if (floorSeen.turn === undefined && mine) {
      // Opened (or reloaded) the phone during one's own turn: say so, without buzzing.
      announce(t('yourTurnAnnounce', { time: clock(turn.limit_ms / 1000) }));
    }
    if (!mine && place === 1 && floorSeen.place !== 1 && floorSeen.turn !== undefined) announce(t('youAreNext'));
    floorSeen.turn = turnId;
    floorSeen.mine = mine;
    floorSeen.place = place;
  }

  /** Each tick: buzz once when 15 seconds of one's own turn are left. */
  function onClockTick(remaining, s) {
    // A hand that waited long enough: take the notice away.
    const waitUntil = s.you?.floor?.hand_wait_until;
    const serverTime = serverNow(s.floor, s.floorAt, performance.now());
    if (document.getElementById('hand-wait') && !(waitUntil > serverTime)) update();
    const turn = s.floor?.turn;
    if (!turn || turn.speaker !== s.you?.id || s.floor.paused || remaining === null) return;
    if (floorSeen.nearEnd === turn.id || turn.limit_ms <= NEAR_END_MS) return;
    if (remaining <= NEAR_END_MS && remaining > 0) {
      floorSeen.nearEnd = turn.id;
      vibrate(400);
      announce(t('fifteenSecondsLeft'));
    }
  }

  // --- warnings ------------------------------------------------------------------------------------

  function warningsSection() {
    const warnings = (yourFloor().warnings || []).filter((w) => !closedWarnings.has(warningKey(w)));
    if (!warnings.length) return null;
    const rules = store().rules;
    return h('div', { class: 'warnings', id: 'warnings' }, warnings.map((w) => {
      const key = warningKey(w);
      const textId = `warning-${key.replace(/[^A-Za-z0-9-]/g, '-')}`;
      const rule = ruleById(rules, w.rule);
      return h('section', { class: 'warning', 'data-rule': w.rule, 'aria-labelledby': `${textId}-title` },
        h('h2', { class: 'warning-title', id: `${textId}-title` }, t('warningTitle')),
        h('p', { id: textId }, rule ? t('warningRule', { rule: rule.text }) : t('warningNoRule')),
        w.hand_wait_minutes ? h('p', {}, t('warningHandWait', { n: w.hand_wait_minutes })) : null,
        h('button', {
          type: 'button', class: 'secondary small', 'data-key': `close-${textId}`, 'aria-describedby': textId,
          onclick: () => {
            closedWarnings.add(key);
            saveClosedWarnings(conn.code, closedWarnings);
            update();
            document.getElementById('floor-heading')?.focus();
          },
        }, t('closeWarning')));
    }));
  }

  function noticeWarnings() {
    const keys = (yourFloor().warnings || []).map(warningKey);
    if (floorSeen.warnings !== null) {
      const fresh = keys.filter((k) => !floorSeen.warnings.includes(k) && !closedWarnings.has(k));
      if (fresh.length) announce(t('warningTitle'));
    }
    floorSeen.warnings = keys;
  }

  // --- the ground rules and reports ------------------------------------------------------------

  function rulesSection(prominent) {
    const s = store();
    const rules = s.rules;
    if (!rules?.rules?.length) return null;
    const agreed = yourFloor().agreed;
    const answered = agreed === true || agreed === false;
    const canAct = !ended();
    let answer = t('rulesQuestion');
    if (agreed === true) answer = t('rulesAgreed');
    if (agreed === false) answer = t('rulesDisagreed');
    return h('section', { class: prominent ? 'panel rules prominent' : 'panel rules', id: 'rules', 'aria-labelledby': 'rules-heading' },
      h('h2', { id: 'rules-heading', tabindex: '-1' }, t('rulesHeading')),
      prominent ? h('p', {}, t('rulesIntro')) : null,
      h('ol', { class: 'rules-list', id: 'rules-list' }, rules.rules.map((rule) => h('li', { 'data-rule': rule.id },
        h('span', { class: 'rule-text' }, rule.text),
        rule.violations ? h('span', { class: 'badge rule-count' }, rule.violations === 1 ? t('brokenOnce') : t('brokenTimes', { n: rule.violations })) : null))),
      canAct ? h('p', { class: answered ? 'rules-answer' : 'rules-answer open', id: 'rules-answer' }, answer) : null,
      canAct ? h('div', { class: 'answer-buttons', role: 'group', 'aria-labelledby': 'rules-answer' },
        h('button', {
          type: 'button', class: agreed === true ? 'primary' : 'secondary', id: 'rules-agree', 'data-key': 'rules-agree',
          'aria-pressed': String(agreed === true),
          onclick: () => floorCommand({ type: 'agree_rules', agree: true }, t('rulesAgreed')),
        }, t('agreeButton')),
        h('button', {
          type: 'button', class: agreed === false ? 'primary' : 'secondary', id: 'rules-disagree', 'data-key': 'rules-disagree',
          'aria-pressed': String(agreed === false),
          onclick: () => floorCommand({ type: 'agree_rules', agree: false }, t('rulesDisagreed')),
        }, t('disagreeButton'))) : null,
      canAct && !flagDraft.open ? h('div', { class: 'flag-open-wrap' },
        h('p', { class: 'hint', id: 'flag-open-hint' }, t('flagHint')),
        h('button', {
          type: 'button', class: 'secondary', id: 'flag-open', 'data-key': 'flag-open', 'aria-describedby': 'flag-open-hint',
          onclick: openFlag,
        }, t('flagOpen'))) : null,
      myReports());
  }

  function myReports() {
    const reports = yourFloor().reports || [];
    if (!reports.length) return null;
    const rules = store().rules;
    return h('div', { class: 'my-reports' },
      h('h3', {}, t('myReportsHeading')),
      h('ul', { class: 'my-reports-list', id: 'my-reports' }, reports.map((r) => h('li', { 'data-report': r.id, 'data-status': r.status },
        h('span', { class: 'rule-text' }, ruleById(rules, r.rule)?.text ?? t('ruleGone')),
        ' ',
        h('span', { class: `badge report-${r.status}` }, t(`reportStatus.${r.status}`))))));
  }

  function openFlag() {
    Object.assign(flagDraft, { open: true, rule: '', about: '', note: '', anonymous: false, error: null, busy: false });
    update();
    renderFlag();
    document.getElementById('flag-rule')?.focus();
  }

  function closeFlag() {
    flagDraft.open = false;
    flagDraft.error = null;
    renderFlag();
    update();
    document.getElementById('flag-open')?.focus();
  }

  async function onFlag(event) {
    event.preventDefault();
    if (flagDraft.busy) return;
    const rules = store().rules?.rules || [];
    const rule = flagDraft.rule || rules[0]?.id;
    if (!rule) return;
    const note = flagDraft.note.trim();
    if (charCount(note) > NOTE_MAX) {
      flagDraft.error = t('noteTooLong', { max: NOTE_MAX });
      renderFlag();
      document.getElementById('flag-note')?.focus();
      return;
    }
    const cmd = { type: 'flag', rule, anonymous: flagDraft.anonymous };
    if (flagDraft.about) cmd.about = flagDraft.about;
    if (note) cmd.note = note;
    flagDraft.busy = true;
    flagDraft.error = null;
    renderFlag();
    try {
      await conn.send(cmd);
      flagDraft.busy = false;
      announce(t('flagSent'));
      closeFlag();
    } catch (err) {
      // The form stays open with what was typed, and says why in plain words.
      flagDraft.busy = false;
      flagDraft.error = errorText(err);
      renderFlag();
      document.getElementById('flag-send')?.focus();
    }
  }

  /** The report form: built only when it opens or closes, so typing is never interrupted. */
  function renderFlag() {
    if (!regions) return;
    if (!flagDraft.open || ended()) {
      replace(regions.flag);
      return;
    }
    const s = store();
    const rules = s.rules?.rules || [];
    const others = [...s.participants.values()].filter((p) => p.id !== me());
    replace(regions.flag, h('form', { class: 'panel flag-form', id: 'flag-form', novalidate: true, onsubmit: onFlag, 'aria-labelledby': 'flag-heading' },
      h('h2', { id: 'flag-heading' }, t('flagHeading')),
      h('p', { class: 'hint' }, t('flagWhoSees')),
      flagDraft.error ? h('p', { class: 'error-text', id: 'flag-error', role: 'alert' }, flagDraft.error) : null,
      field({
        id: 'flag-rule', label: t('flagRuleLabel'),
        control: h('select', { onchange: (e) => { flagDraft.rule = e.target.value; } },
          rules.map((r) => h('option', { value: r.id, selected: r.id === flagDraft.rule }, shorten(r.text)))),
      }),
      field({
        id: 'flag-about', label: t('flagAboutLabel'),
        control: h('select', { onchange: (e) => { flagDraft.about = e.target.value; } },
          h('option', { value: '', selected: !flagDraft.about }, t('flagAboutNobody')),
          others.map((p) => h('option', { value: p.id, selected: p.id === flagDraft.about },
            p.role === 'facilitator' ? `${p.name} (${t('facilitatorRole')})` : p.name))),
      }),
      field({
        id: 'flag-note', label: t('flagNoteLabel'),
        control: h('textarea', {
          rows: 3, maxlength: NOTE_MAX, value: flagDraft.note,
          oninput: (e) => {
            flagDraft.note = e.target.value;
            const counter = document.getElementById('flag-note-count');
            if (counter) counter.textContent = t('charsLeft', { n: charCount(e.target.value), max: NOTE_MAX });
          },
        }),
        extra: h('p', { class: 'counter', id: 'flag-note-count' }, t('charsLeft', { n: charCount(flagDraft.note), max: NOTE_MAX })),
      }),
      h('div', { class: 'choice' },
        h('input', { type: 'checkbox', id: 'flag-anonymous', checked: flagDraft.anonymous, onchange: (e) => { flagDraft.anonymous = e.target.checked; } }),
        h('label', { for: 'flag-anonymous' }, t('flagAnonymousLabel'))),
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'primary', id: 'flag-send', 'aria-disabled': flagDraft.busy ? 'true' : null }, flagDraft.busy ? t('sending') : t('flagSend')),
        h('button', { type: 'button', class: 'secondary', id: 'flag-cancel', onclick: closeFlag }, t('cancelButton')))));
  }

  /**
   * The ground rules stand near the top in phase 0 (agreeing to them is part of getting
   * ready) and further down later on. They never move while someone is typing a report.
   */
  function placeRules(top) {
    if (regions.rulesAtTop === top || regions.flag.contains(document.activeElement)) return;
    const active = regions.rulesWrap.contains(document.activeElement) ? document.activeElement : null;
    if (top) regions.floor.after(regions.rulesWrap);
    else regions.budget.before(regions.rulesWrap);
    regions.rulesAtTop = top;
    // Moving a part of the page drops its focus: give it back where it was.
    if (active && document.activeElement !== active) active.focus({ preventScroll: true });
  }

  /** A small reminder near the top, after phase 0, while the rules are not answered. */
  function rulesReminder() {
    return h('p', { class: 'rules-reminder', id: 'rules-reminder' },
      t('rulesReminder'), ' ',
      h('a', {
        href: '#rules',
        onclick: (event) => {
          event.preventDefault();
          const heading = document.getElementById('rules-heading');
          heading?.scrollIntoView({ block: 'start' });
          heading?.focus({ preventScroll: true });
        },
      }, t('rulesReminderLink')));
  }

  // --- the board -----------------------------------------------------------------------------

  function cardItem(card, round, votes) {
    const s = store();
    const own = isOwnCard(s, card.id);
    const author = own ? t('yourCard') : authorName(s, card) ? t('byName', { name: authorName(s, card) }) : null;
    const canAct = !ended();
    return h('li', { class: own ? 'card own' : 'card', 'data-card': card.id },
      h('p', { class: 'card-meta' },
        h('span', { class: 'card-kind' }, t(`kind.${card.kind}`)),
        author ? h('span', { class: 'card-author' }, author) : null),
      h('p', { class: 'card-text', id: `card-text-${card.id}` }, card.text || ''),
      own && canAct && confirmWithdraw === card.id
        ? h('div', { class: 'confirm', role: 'group', 'aria-labelledby': `confirm-${card.id}` },
          h('p', { id: `confirm-${card.id}` }, t('withdrawConfirm')),
          h('div', { class: 'row' },
            h('button', {
              type: 'button', class: 'danger', 'data-key': `withdraw-yes-${card.id}`,
              onclick: () => {
                confirmWithdraw = null;
                run({ type: 'withdraw_card', card: card.id }, t('cardWithdrawn'));
                update();
                document.getElementById('cards-heading')?.focus();
              },
            }, t('withdrawYes')),
            h('button', {
              type: 'button', class: 'secondary', 'data-key': `withdraw-no-${card.id}`,
              onclick: () => {
                confirmWithdraw = null;
                update();
                document.querySelector(`[data-key="withdraw-${CSS.escape(card.id)}"]`)?.focus();
              },
            }, t('cancelButton'))))
        : null,
      own && canAct && confirmWithdraw !== card.id && editing !== card.id
        ? h('div', { class: 'card-actions' },
          h('button', { type: 'button', class: 'secondary small', 'data-key': `edit-${card.id}`, 'aria-describedby': `card-text-${card.id}`, onclick: () => startEdit(card) }, t('editButton')),
          h('button', {
            type: 'button', class: 'secondary small', 'data-key': `withdraw-${card.id}`, 'aria-describedby': `card-text-${card.id}`,
            onclick: () => {
              confirmWithdraw = card.id;
              update();
              document.querySelector(`[data-key="withdraw-no-${CSS.escape(card.id)}"]`)?.focus();
            },
          }, t('withdrawButton')))
        : null,
      round && canAct && round.cards.includes(card.id) ? voteControls(round, card, votes) : null);
  }

  /** Cards still on their way to the server, shown so nothing seems lost while offline. */
  function pendingCards() {
    return conn.pending().filter((e) => e.cmd.type === 'add_card').map((e) => h('li', { class: 'card card-pending' },
      h('p', { class: 'card-meta' }, h('span', { class: 'card-kind' }, t(`kind.${e.cmd.kind}`)), h('span', { class: 'card-author' }, t('sending'))),
      h('p', { class: 'card-text' }, e.cmd.text)));
  }

  function cardsSection(round, votes) {
    const s = store();
    const phase = s.session.phase;
    const inRound = new Set(round ? round.cards : []);
    const cards = [...s.cards.values()].filter((c) => c.status === 'visible' && (c.phase === phase || inRound.has(c.id)));
    const pending = pendingCards();
    return h('section', { class: 'cards-section', 'aria-labelledby': 'cards-heading' },
      h('h2', { id: 'cards-heading', tabindex: '-1' }, t('cardsHeading')),
      cards.length || pending.length
        ? h('ul', { class: 'cards', id: 'cards' }, cards.map((c) => cardItem(c, round, votes)), pending)
        : h('p', { class: 'empty' }, t('noCards')));
  }

  function roundSection(round) {
    if (round) {
      return h('section', { class: 'panel round', 'aria-labelledby': 'round-heading' },
        h('h2', { id: 'round-heading' }, t('roundOpenHeading')),
        h('p', {}, t('roundOpenText', { max: round.max_per_card })));
    }
    const closed = lastClosedRound(store(), store().session.phase);
    if (!closed) return null;
    return h('section', { class: 'panel result', 'aria-labelledby': 'result-heading' },
      h('h2', { id: 'result-heading' }, t('resultHeading')),
      ranking(store(), closed));
  }

  function budgetBar(round, votes) {
    if (!round || ended()) return null;
    return h('p', { class: 'budget', id: 'budget', 'data-remaining': votes.remaining },
      h('span', { class: 'budget-number', 'aria-hidden': 'true' }, String(votes.remaining)),
      h('span', { class: 'budget-text' }, t('votesLeftShort', { n: votes.remaining, budget: round.budget })));
  }

  function header() {
    const session = store().session;
    return [
      h('h1', { id: 'session-title', tabindex: '-1', 'data-key': 'session-title' }, session.title),
      session.problem ? h('details', { class: 'problem', open: true },
        h('summary', {}, t('problemHeading')),
        h('p', { class: 'problem-text' }, session.problem)) : null,
      session.status === 'ended' ? h('p', { class: 'notice', id: 'ended-notice' }, t('sessionEndedNotice')) : null,
    ];
  }

  /**
   * While a round is open the cards (with their vote buttons) come first and the add-card form
   * moves below them. It never moves while someone is typing in it.
   */
  function placeForm(afterCards) {
    if (regions.formAfterCards === afterCards || regions.form.contains(document.activeElement)) return;
    if (afterCards) regions.cards.after(regions.form);
    else regions.cards.before(regions.form);
    regions.formAfterCards = afterCards;
  }

  /** Updates everything that follows the room; leaves the form alone. */
  function update() {
    if (final || !store().ready) return render();
    if (!regions) return render();
    const s = store();
    setTitle(s.session.title);
    markShown();
    const round = openRound(s);
    const votes = round ? myVotes(s, round, conn.pending()) : null;
    if (shownPhase !== null && shownPhase !== s.session.phase) {
      announce(t('phaseChanged', { n: s.session.phase }));
      const select = document.getElementById('card-kind');
      if (select && !draft.kind) select.value = kindForPhase(s.session.phase);
    }
    shownPhase = s.session.phase;
    const roundId = round ? round.id : null;
    if (shownRound !== undefined && shownRound !== roundId) {
      announce(round ? t('roundOpenedParticipant', { n: votes.remaining }) : t('roundClosed'));
    }
    shownRound = roundId;
    // The problem's <details> keeps whether the person opened or closed it.
    const details = regions.head.querySelector('details');
    const open = details ? details.open : true;
    replace(regions.head, header());
    const again = regions.head.querySelector('details');
    if (again) again.open = open;
    replace(regions.phase, phaseBlock(s.session.phase));
    replace(regions.round, roundSection(round));
    replace(regions.cards, cardsSection(round, votes));
    replace(regions.budget, budgetBar(round, votes));
    placeForm(Boolean(round && !ended()));
    if (ended() && regions.form.firstChild) renderForm();
    // The floor and the ground rules.
    noticeFloor();
    noticeWarnings();
    replace(regions.warnings, warningsSection());
    replace(regions.floor, floorSection());
    const unanswered = !ended() && mustAnswerRules(s.rules, yourFloor());
    const rulesOnTop = s.session.phase === 0 && Boolean(s.rules?.rules?.length);
    replace(regions.reminder, unanswered && !rulesOnTop ? rulesReminder() : null);
    replace(regions.rules, rulesSection(rulesOnTop || unanswered));
    placeRules(rulesOnTop);
    if (flagDraft.open && (ended() || !s.rules?.rules?.length)) {
      flagDraft.open = false;
      renderFlag();
    }
  }

  function render() {
    if (final) {
      regions = null;
      setTitle(null);
      const text = final.code === 'session_not_found' ? t('noSession') : errorText(final);
      replace(main, messagePage(text, h('a', { class: 'button', href: '/' }, t('toHome'))));
      return;
    }
    if (!store().ready) {
      regions = null;
      replace(main, h('p', { class: 'loading', role: 'status' }, t('connecting')));
      return;
    }
    regions = {
      head: h('div', { class: 'session-head' }),
      warnings: h('div', {}),
      floor: h('div', {}),
      reminder: h('div', {}),
      phase: h('div', {}),
      round: h('div', {}),
      form: h('div', {}),
      cards: h('div', {}),
      rulesWrap: h('div', { class: 'rules-wrap' }),
      rules: h('div', {}),
      flag: h('div', {}),
      budget: h('div', { class: 'budget-wrap' }),
      formAfterCards: false,
      rulesAtTop: false,
    };
    regions.rulesWrap.append(regions.rules, regions.flag);
    replace(main, regions.head, regions.warnings, regions.floor, regions.reminder, regions.phase, regions.round,
      regions.form, regions.cards, regions.rulesWrap, regions.budget);
    renderForm();
    renderFlag();
    update();
    if (!focusedTitle) {
      // Arriving (after joining, or coming back): start reading at the session's title.
      focusedTitle = true;
      document.getElementById('session-title')?.focus({ preventScroll: true });
      // Start at the top, where the floor is (the join form may have left the page scrolled).
      window.scrollTo(0, 0);
    }
  }

  render();
  return { render };
}

function shorten(text) {
  const chars = [...text];
  return chars.length > 60 ? `${chars.slice(0, 57).join('')}…` : text;
}

/** Warnings whose banner this person closed, kept on the device per session. */
function loadClosedWarnings(code) {
  try {
    return new Set(JSON.parse(localStorage.getItem(`tafel:closed-warnings:${code}`) || '[]'));
  } catch {
    return new Set();
  }
}

function saveClosedWarnings(code, keys) {
  try {
    localStorage.setItem(`tafel:closed-warnings:${code}`, JSON.stringify([...keys]));
  } catch {
    // Private mode: closed for this page only.
  }
}
