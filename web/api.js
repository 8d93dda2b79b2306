// The HTTP part of the API: create a session, look one up before joining, and where the
// tokens are kept on this device.

/** An error answer: `code` is the protocol's ErrorCode ("network" when the server was not reached). */
export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

async function request(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
      cache: 'no-store',
    });
  } catch (err) {
    throw new ApiError('network', String(err), 0);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(data?.code || 'unknown', data?.message || response.statusText, response.status);
  }
  return data;
}

/** POST /api/sessions with a CreateSession body; resolves to SessionCreated. */
export function createSession(body) {
  return request('POST', '/api/sessions', body);
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
 * A facilitator or projector link carries its token after `#`. Keep it on this device and
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
