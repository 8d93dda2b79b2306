// The HTTP part of the API: create a session, look one up before joining, and where the
// tokens are kept on this device. (The replay and the report are read in history.js.)

/** An error answer: `code` is the protocol's ErrorCode ("network" when the server was not reached). */
export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/**
 * A request to the API; with `token`, sent as `Authorization: Bearer` (never in the address).
 * Resolves to the response once it is ok; an error answer rejects with an ApiError.
 */
export async function fetchOk(method, path, body, token) {
  let response;
  const headers = body ? { 'content-type': 'application/json' } : {};
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body ? JSON.stringify(body) : undefined,
      cache: 'no-store',
    });
  } catch (err) {
    throw new ApiError('network', String(err), 0);
  }
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    throw new ApiError(data?.code || 'unknown', data?.message || response.statusText, response.status);
  }
  return response;
}

/** The same, resolving to the answer's JSON. */
export async function request(method, path, body, token) {
  const response = await fetchOk(method, path, body, token);
  return response.json().catch(() => null);
}

/**
 * POST /api/sessions with a CreateSession body (and the organiser key, when this server asks
 * for one); resolves to SessionCreated.
 */
export function createSession(body, organiserKey) {
  return request('POST', '/api/sessions', body, organiserKey || undefined);
}

// The organiser key, once given on this device: kept so the home page asks for it only once.
const ORGANISER_KEY = 'tafel:organiser-key';

export function getOrganiserKey() {
  try {
    return localStorage.getItem(ORGANISER_KEY);
  } catch {
    return null;
  }
}

export function setOrganiserKey(key) {
  try {
    if (key) localStorage.setItem(ORGANISER_KEY, key);
    else localStorage.removeItem(ORGANISER_KEY);
  } catch {
    // Private mode: asked again next time.
  }
}

/** GET /api/sessions/{code}; resolves to SessionInfo. */
export function sessionInfo(code) {
  return request('GET', `/api/sessions/${encodeURIComponent(code)}`);
}

/** The QR code of a session's join link. */
export function qrUrl(code) {
  return `/api/sessions/${encodeURIComponent(code)}/qr.svg`;
}

/** Normalises what a person typed as a code: letters and digits, upper case. */
export function cleanCode(text) {
  return String(text || '').toUpperCase().replace(/[^A-Z0-9]/g, '');
}

// Tokens on this device. Each kind of link has its own key, so a facilitator who also
// tries the phone screen in another tab of the same browser stays two people.
const KEYS = {
  participant: (code) => `tafel:token:${code}`,
  facilitator: (code) => `tafel:facilitator:${code}`,
  projector: (code) => `tafel:projector:${code}`,
  replay: (code) => `tafel:replay:${code}`,
};

export function getToken(kind, code) {
  try {
    return localStorage.getItem(KEYS[kind](code));
  } catch {
    return null;
  }
}

export function setToken(kind, code, token) {
  try {
    localStorage.setItem(KEYS[kind](code), token);
  } catch {
    // Private mode: the token lasts for this page only.
  }
}

export function forgetToken(kind, code) {
  try {
    localStorage.removeItem(KEYS[kind](code));
  } catch {
    // Nothing to forget.
  }
}

/**
 * A facilitator, projector or replay link carries its token after `#`. Keep it on this device and
 * take it out of the address bar, so it is not shown on a projected screen or in history.
 */
export function takeTokenFromFragment(kind, code) {
  const fragment = decodeURIComponent(location.hash.replace(/^#/, ''));
  if (fragment) {
    setToken(kind, code, fragment);
    history.replaceState(null, '', location.pathname + location.search);
  }
  return getToken(kind, code);
}

// The sessions this browser facilitates, for the home page: code → { title, status,
// created_at }. Only what the console shows anyway; the tokens stay under their own keys.
const FACILITATING = 'tafel:facilitating';

function readFacilitating() {
  try {
    const list = JSON.parse(localStorage.getItem(FACILITATING) || '{}');
    return list && typeof list === 'object' ? list : {};
  } catch {
    return {};
  }
}

/** Notes (or updates) a session this browser facilitates. */
export function rememberFacilitating(code, info) {
  const list = readFacilitating();
  const next = { title: info.title, status: info.status, created_at: info.created_at };
  if (JSON.stringify(list[code]) === JSON.stringify(next)) return;
  list[code] = next;
  try {
    localStorage.setItem(FACILITATING, JSON.stringify(list));
  } catch {
    // Private mode: the home page will not list it.
  }
}

/**
 * The sessions whose facilitator key this browser holds, newest first: { code, title, status,
 * created_at } (title and the rest unknown for a key kept before the list was).
 */
export function facilitatingSessions() {
  const list = readFacilitating();
  const codes = new Set(Object.keys(list));
  try {
    for (let i = 0; i < localStorage.length; i += 1) {
      const key = localStorage.key(i);
      if (key?.startsWith('tafel:facilitator:')) codes.add(key.slice('tafel:facilitator:'.length));
    }
  } catch {
    // No storage: nothing kept.
  }
  return [...codes]
    .filter((code) => getToken('facilitator', code))
    .map((code) => ({ code, ...(list[code] || {}) }))
    .sort((a, b) => (b.created_at || 0) - (a.created_at || 0));
}

/** Forgets a session on this device: its facilitator and projector keys and its entry. */
export function forgetFacilitating(code) {
  forgetToken('facilitator', code);
  forgetToken('projector', code);
  const list = readFacilitating();
  delete list[code];
  try {
    localStorage.setItem(FACILITATING, JSON.stringify(list));
  } catch {
    // Nothing to forget.
  }
}
