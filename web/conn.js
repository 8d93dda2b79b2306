// The one connection to the server, shared by every screen.
//
// - Opens the WebSocket at /ws and says `join` (a new participant) or `resume` (anyone with a
//   token kept on this device).
// - Keeps the room in a local store: a `welcome` replaces it whole, a `delta` replaces the
//   entities it carries (by id; the floor and the ground rules come whole), a `you_delta`
//   updates this client's own data. Every list in a view becomes a Map by id and every patch
//   is applied the same way, so a new kind of record needs nothing here. The store remembers
//   when the floor arrived (`floorAt`, on the performance.now() clock), so a turn's countdown
//   runs on without the server's clock.
// - Every command gets an id and waits in the outbox until the server answers. After a
//   reconnect the outbox is sent again with the same ids: the server answers a repeated id
//   with its first answer, so nothing is applied twice. The outbox is also kept on the device,
//   so a reload does not lose what was not yet sent.
// - Reconnects with exponential backoff and full jitter, so a room full of phones does not
//   come back at the same moment after a server restart.
// - Notices a dead connection within seconds, since a phone whose Wi-Fi went keeps a socket
//   that looks open: it pings every 10 s while the screen is on, and at once when a command
//   waits 2 s for its answer; a ping unanswered for 3 s (or the browser saying it went
//   offline) drops the socket and makes a new one. An attempt that hangs is given up too.
// - When the server cannot store a command (`storage_unavailable`: its disk is full or
//   failing), the command stays in the outbox and goes again by itself, with the same id and
//   a growing pause, until it is stored; when the server says a write is slow (`storage`), the
//   status says so. Either way nothing is lost and there is nothing for the person to redo.

import { getToken, setToken, forgetToken } from './api.js';

export const PROTOCOL_VERSION = 1;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 15000;
const PING_EVERY_MS = 10000;
const SILENT_TOO_LONG_MS = 30000;
/** A command unanswered this long makes the phone ask the server whether it is still there. */
const ANSWER_EXPECTED_MS = 2000;
/** A ping unanswered this long means the connection is gone. */
const PROBE_ANSWER_MS = 3000;
/** A new socket that has not opened after this long is given up (and tried again). */
const OPEN_TIMEOUT_MS = 8000;
const TICK_MS = 1000;
/** Pauses before sending again what the server could not store, growing to the last. */
const STORAGE_RETRY_MS = [2000, 4000, 8000, 15000];

/** Errors to join or resume that trying again will not fix. */
const FINAL_HELLO_ERRORS = new Set([
  'bad_token', 'session_not_found', 'session_locked', 'session_full', 'session_ended', 'unsupported_version',
  'too_many_attempts', 'invalid', 'forbidden', 'bad_message',
]);

const tabId = randomHex(6);
let commandCounter = 0;

function randomHex(bytes) {
  const buf = new Uint8Array(bytes);
  crypto.getRandomValues(buf);
  return Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A command id, unique for this tab (and in practice everywhere). */
export function newCommandId() {
  commandCounter += 1;
  return `${tabId}-${Date.now().toString(36)}-${commandCounter}`;
}

/** The refusal of a command, as the server sent it. */
export class CommandError extends Error {
  /** code: the protocol's ErrorCode; field: the command's field it is about, if any;
   * command: the type of the command it answers, if any (to say what went wrong). */
  constructor(code, message, { field, command } = {}) {
    super(message);
    this.code = code;
    this.field = field;
    this.command = command;
  }
}

function emptyStore() {
  return {
    ready: false,
    role: null,
    you: null,
    session: null,
    participants: new Map(),
    cards: new Map(),
    rounds: new Map(),
    floor: null,
    floorAt: 0,
    rules: null,
    reports: new Map(),
    seq: 0,
  };
}

/**
 * A store made from a whole view, as a welcome makes it: `role`, the view's parts (lists as
 * Maps by id), `you` and `seq`. With `past`, the view is a moment gone by (a replay): the
 * floor's clock stands still there, so a countdown shows what it showed then.
 */
export function viewStore(role, view, { you = null, seq = 0, past = false } = {}) {
  const store = { ...emptyStore(), ready: true, role, you, seq };
  applyParts(store, view);
  if (past) store.floorAt = Number.POSITIVE_INFINITY;
  return store;
}

/**
 * Applies a welcome's view or a delta's patch to the store, the same way for every part: a
 * list holds entities by id (each replaces the one with its id, or is added), anything else
 * comes whole. A part the server did not send stays as it was.
 */
function applyParts(store, parts) {
  for (const [key, value] of Object.entries(parts)) {
    if (Array.isArray(value)) {
      if (!(store[key] instanceof Map)) store[key] = new Map();
      for (const item of value) store[key].set(item.id, item);
    } else {
      store[key] = value;
    }
  }
  // The floor's clock counts on from the moment it arrived here.
  if (parts.floor) store.floorAt = performance.now();
}

/** In a `you_delta`, the lists whose entries replace the one with the same key (or are added). */
const YOU_LISTS = { votes: 'round', readiness: 'check', consents: 'criterion', reflections: 'reflection' };

/** This client's own data with a `you_delta` applied: new cards added, each list's changed
 * entries replaced by their key (the round, the check, the criterion, the reflection), the
 * floor data replaced when sent. */
function applyYou(you, patch) {
  if (!you) return you;
  const next = { ...you, cards: [...(you.cards || []), ...(patch.new_cards || [])], floor: patch.floor || you.floor };
  for (const [list, key] of Object.entries(YOU_LISTS)) {
    if (!patch[list]) continue;
    const entries = [...(you[list] || [])];
    for (const changed of patch[list]) {
      const i = entries.findIndex((e) => e[key] === changed[key]);
      if (i >= 0) entries[i] = changed;
      else entries.push(changed);
    }
    next[list] = entries;
  }
  return next;
}

/**
 * Opens a connection.
 * kind: 'participant' | 'facilitator' | 'projector' (which token on this device to use).
 * join: { name, perspective } for a participant without a token yet.
 */
export function connect({ code, kind, join }) {
  return new Connection(code, kind, join || null);
}

class Connection {
  constructor(code, kind, join) {
    this.code = code;
    this.kind = kind;
    this.joinRequest = join;
    this.store = emptyStore();
    this.outbox = new Map(); // id → { id, cmd, sentAt, resolve, reject }
    this.listeners = new Map();
    this.ws = null;
    this.welcomed = false;
    this.everWelcomed = false;
    this.welcomes = 0;
    this.attempt = 0;
    this.retryTimer = null;
    this.holdUntil = 0;
    this.lastHeard = Date.now();
    this.finalError = null;
    this.closed = false;
    this.dropAfterSend = false;
    this.probeSentAt = 0;
    /** The server said a write of the room is slow. */
    this.storageSlow = false;
    /** The server could not store a command; it waits here to go again. */
    this.storageFailing = false;
    this.storageRetries = 0;
    this.storageTimer = null;

    this.loadOutbox();
    this.onWake = () => this.reconnectSoon();
    // The browser knows the network is gone: say so now, and come back with `online`.
    this.onOffline = () => this.drop();
    window.addEventListener('offline', this.onOffline);
    this.onVisible = () => {
      if (document.visibilityState === 'visible') this.wakeUp();
    };
    window.addEventListener('online', this.onWake);
    document.addEventListener('visibilitychange', this.onVisible);
    this.ticker = setInterval(() => this.tick(), TICK_MS);
    this.pinger = setInterval(() => {
      if (this.welcomed && document.visibilityState !== 'hidden') this.probe();
    }, PING_EVERY_MS);
    this.open();
  }

  // --- events -------------------------------------------------------------------------------

  /** Listen: 'change' (the store changed), 'status', 'final' (cannot go on), 'error' (an
   * error that answers no waiting command), 'ack' ({ id, result }). Returns an unsubscribe. */
  on(event, fn) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(fn);
    return () => this.listeners.get(event).delete(fn);
  }

  emit(event, value) {
    for (const fn of this.listeners.get(event) || []) fn(value);
  }

  /** 'connecting' (first try), 'online', 'offline' (reconnecting) or 'stopped'. */
  connection() {
    if (this.finalError || this.closed) return 'stopped';
    if (this.welcomed) return 'online';
    return this.everWelcomed || this.attempt > 0 ? 'offline' : 'connecting';
  }

  /** Commands not yet answered, oldest first: [{ id, cmd }]. */
  pending() {
    return [...this.outbox.values()];
  }

  /** connection (above), pending (commands not yet answered) and storage: 'ok', 'slow' (a
   * write takes long) or 'failing' (the server cannot store; what waits goes again). */
  status() {
    let storage = 'ok';
    if (this.storageFailing) storage = 'failing';
    else if (this.storageSlow) storage = 'slow';
    return { connection: this.connection(), pending: this.outbox.size, storage };
  }

  // --- the socket ---------------------------------------------------------------------------

  open() {
    if (this.closed || this.finalError) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    this.ws = ws;
    this.openedAt = Date.now();
    ws.onopen = () => {
      this.lastHeard = Date.now();
      this.hello();
    };
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      this.lastHeard = Date.now();
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      this.receive(msg);
    };
    ws.onclose = () => {
      if (ws !== this.ws) return;
      this.lost();
    };
  }

  hello() {
    const token = getToken(this.kind, this.code);
    if (token) {
      this.write({ type: 'resume', v: PROTOCOL_VERSION, code: this.code, token });
    } else if (this.kind === 'participant' && this.joinRequest) {
      const { name, perspective } = this.joinRequest;
      this.write({ type: 'join', v: PROTOCOL_VERSION, code: this.code, name, perspective });
    } else {
      this.stop({ code: 'bad_token', message: 'no token on this device' });
    }
  }

  /** The socket closed (server restart, lost Wi-Fi, a close code such as 1001 or 1013). */
  lost() {
    this.ws = null;
    this.welcomed = false;
    if (this.closed || this.finalError) return;
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    clearTimeout(this.retryTimer);
    // Exponential backoff with full jitter: anywhere between 0 and the current ceiling.
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    this.attempt += 1;
    const delay = Math.max(Math.random() * ceiling, this.holdUntil - Date.now());
    this.retryTimer = setTimeout(() => this.open(), delay);
    this.emit('status', this.status());
  }

  /** The phone woke up or came back online: try now instead of waiting for the timer. */
  reconnectSoon() {
    if (this.ws || this.closed || this.finalError || Date.now() < this.holdUntil) return;
    clearTimeout(this.retryTimer);
    this.open();
  }

  /**
   * The screen was off or the tab hidden. A socket that looks open may have died meanwhile
   * (phones drop them while locked): ask the server, and make a new one if it does not answer.
   */
  wakeUp() {
    if (!this.ws) return this.reconnectSoon();
    if (Date.now() - this.lastHeard > PING_EVERY_MS && this.write({ type: 'ping' })) {
      this.probeSentAt = Date.now();
    }
    return undefined;
  }

  /** Closes the socket without warning, as a lost connection would. */
  drop() {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    this.probeSentAt = 0;
    ws.onclose = null;
    ws.close();
    this.lost();
  }

  /** Asks the server whether it is still there (a ping); its answer is any message. */
  probe() {
    if (this.probeSentAt > this.lastHeard) return; // one question at a time
    if (this.write({ type: 'ping' })) this.probeSentAt = Date.now();
  }

  tick() {
    if (!this.ws) return;
    const now = Date.now();
    if (this.ws.readyState === WebSocket.CONNECTING && now - this.openedAt > OPEN_TIMEOUT_MS) {
      // The handshake hangs (the network swallows it): give this attempt up.
      this.drop();
      return;
    }
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const silent = now - this.lastHeard;
    const waiting = this.pending().some((entry) => entry.sentAt && now - entry.sentAt > ANSWER_EXPECTED_MS
      && entry.sentAt > this.lastHeard);
    if (waiting) this.probe();
    const unanswered = this.probeSentAt > this.lastHeard && now - this.probeSentAt > PROBE_ANSWER_MS;
    if (silent > SILENT_TOO_LONG_MS || unanswered) this.drop();
  }

  write(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  // --- messages from the server -------------------------------------------------------------

  receive(msg) {
    switch (msg.type) {
      case 'welcome': return this.onWelcome(msg);
      case 'delta': return this.onDelta(msg);
      case 'you_delta': return this.onYou(msg);
      case 'ack': return this.onAck(msg);
      case 'error': return this.onError(msg);
      case 'storage': return this.onStorage(msg);
      default: return undefined; // pong, or something newer than this client
    }
  }

  onWelcome(msg) {
    if (msg.token && this.kind === 'participant') setToken('participant', this.code, msg.token);
    // A welcome shows only what is stored: no write of the room is slow at this moment.
    this.storageSlow = false;
    this.store = viewStore(msg.role, msg.view, { you: msg.you, seq: msg.seq });
    this.welcomed = true;
    this.everWelcomed = true;
    this.welcomes += 1;
    this.attempt = 0;
    // Send what waited, in order, with the ids it had.
    for (const entry of this.outbox.values()) this.transmit(entry);
    this.emit('status', this.status());
    this.emit('change', this.store);
  }

  onDelta(msg) {
    // Deltas arrive in order on one socket. A delta may carry the same seq as the one before
    // (presence changes touch no record), so only a strictly older one is stale.
    if (!this.welcomed || msg.seq < this.store.seq) return;
    const store = this.store;
    applyParts(store, msg.patch);
    store.seq = msg.seq;
    this.emit('change', store);
  }

  onYou(msg) {
    this.store.you = applyYou(this.store.you, msg.you);
    this.emit('change', this.store);
  }

  onStorage(msg) {
    this.storageSlow = Boolean(msg.slow);
    this.emit('status', this.status());
  }

  onAck(msg) {
    if (this.storageFailing) {
      // Stored again: what still waits goes now, in order.
      this.storageFailing = false;
      this.storageRetries = 0;
      clearTimeout(this.storageTimer);
      this.storageTimer = null;
      this.sendHeld();
    }
    const entry = this.outbox.get(msg.id);
    this.outbox.delete(msg.id);
    this.saveOutbox();
    entry?.resolve?.(msg.result || {});
    this.emit('ack', { id: msg.id, result: msg.result || {} });
    this.emit('status', this.status());
    this.emit('change', this.store);
  }

  onError(msg) {
    const entry = msg.id !== undefined && msg.id !== null ? this.outbox.get(msg.id) : null;
    const error = new CommandError(msg.code, msg.message, { field: msg.field, command: entry?.cmd?.type });
    if (entry && msg.code === 'storage_unavailable') {
      // Not applied, and not lost: it waits in the outbox and goes again with the same id.
      entry.sentAt = 0;
      entry.held = true;
      this.storageFailing = true;
      this.resendLater();
      this.emit('status', this.status());
      return;
    }
    if (msg.id !== undefined && msg.id !== null) {
      this.outbox.delete(msg.id);
      this.saveOutbox();
      if (this.storageFailing && ![...this.outbox.values()].some((e) => e.held)) this.storageFailing = false;
      if (entry?.reject) entry.reject(error);
      else this.emit('error', error);
      this.emit('status', this.status());
      this.emit('change', this.store);
      return;
    }
    if (!this.welcomed && msg.code === 'too_many_attempts' && getToken(this.kind, this.code)) {
      // Coming back with a token we hold: the server is only busy with others from this
      // address (a whole room reconnecting at once). Try again after the usual backoff.
      this.ws?.close();
      return;
    }
    if (!this.welcomed && (msg.code === 'internal' || msg.code === 'storage_unavailable')) {
      // The server could not open the session just now (it is moving between servers, or
      // storage failed): try again after the usual backoff.
      this.ws?.close();
      return;
    }
    if (!this.welcomed && FINAL_HELLO_ERRORS.has(msg.code)) {
      if (msg.code === 'bad_token' && this.kind === 'participant') forgetToken('participant', this.code);
      this.stop(error);
      return;
    }
    this.emit('error', error);
  }

  /** Gives up: this connection cannot go on (a bad token, a session that does not exist). */
  stop(error) {
    this.finalError = error;
    if (error.code === 'bad_token') {
      // These commands belonged to someone the server does not know: never send them.
      this.outbox.clear();
      this.saveOutbox();
    }
    clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    if (ws) {
      ws.onclose = null;
      ws.close();
    }
    this.emit('status', this.status());
    this.emit('final', error);
  }

  // --- commands -----------------------------------------------------------------------------

  /** Sends a command; resolves with the ack's result, rejects with a CommandError. */
  send(cmd) {
    const entry = { id: newCommandId(), cmd, sentAt: 0 };
    const promise = new Promise((resolve, reject) => {
      entry.resolve = resolve;
      entry.reject = reject;
    });
    this.outbox.set(entry.id, entry);
    this.saveOutbox();
    // While the server cannot store, a new command waits behind those refused, so that the
    // server gets them in the order they were given.
    if (this.storageFailing) entry.held = true;
    else if (this.welcomed) this.transmit(entry);
    this.emit('status', this.status());
    this.emit('change', this.store);
    return promise;
  }

  /** Sends again, after a pause that grows, the commands the server could not store. */
  resendLater() {
    if (this.storageTimer) return;
    const delay = STORAGE_RETRY_MS[Math.min(this.storageRetries, STORAGE_RETRY_MS.length - 1)];
    this.storageRetries += 1;
    this.storageTimer = setTimeout(() => {
      this.storageTimer = null;
      this.sendHeld();
    }, delay);
  }

  /** Sends the commands that wait for storage, in the order they were given. */
  sendHeld() {
    if (!this.welcomed) return; // the welcome sends the whole outbox
    for (const entry of this.outbox.values()) {
      if (entry.held) this.transmit(entry);
    }
  }

  transmit(entry) {
    entry.held = false;
    if (this.write({ type: 'cmd', id: entry.id, cmd: entry.cmd })) {
      entry.sentAt = Date.now();
      if (this.dropAfterSend) {
        this.dropAfterSend = false;
        this.drop();
      }
    }
  }

  outboxKey() {
    return `tafel:outbox:${this.kind}:${this.code}`;
  }

  saveOutbox() {
    try {
      const list = this.pending().map(({ id, cmd }) => ({ id, cmd }));
      if (list.length) localStorage.setItem(this.outboxKey(), JSON.stringify(list));
      else localStorage.removeItem(this.outboxKey());
    } catch {
      // Private mode or full storage: the outbox lives in memory only.
    }
  }

  loadOutbox() {
    try {
      const list = JSON.parse(localStorage.getItem(this.outboxKey()) || '[]');
      for (const { id, cmd } of list) this.outbox.set(id, { id, cmd, sentAt: 0 });
    } catch {
      // Nothing kept.
    }
  }

  /** Stops for good (the screen is left). */
  close() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.storageTimer);
    clearInterval(this.ticker);
    clearInterval(this.pinger);
    window.removeEventListener('online', this.onWake);
    window.removeEventListener('offline', this.onOffline);
    document.removeEventListener('visibilitychange', this.onVisible);
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.close();
    }
  }

  /** Hooks for the browser tests: lose the connection on purpose. */
  testHooks() {
    return {
      dropConnection: (holdMs = 0) => {
        this.holdUntil = Date.now() + holdMs;
        this.drop();
      },
      dropAfterNextSend: () => {
        this.dropAfterSend = true;
      },
      status: () => ({ ...this.status(), welcomes: this.welcomes }),
      store: () => this.store,
    };
  }
}
