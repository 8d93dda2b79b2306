// A tiny DOM helper. Text always goes in as text nodes, never as HTML, so whatever a person
// typed is shown as the characters they typed. Each text goes in its own <bdi>, isolated from
// what stands around it: a name or a card that holds a right-to-left override (or is written
// in Arabic) cannot turn the text after it around.

/** Creates an element: h('button', { class: 'primary', onclick: fn }, 'Send'). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) setAttr(el, key, value);
  append(el, children);
  return el;
}

function setAttr(el, key, value) {
  if (value === undefined || value === null || value === false) return;
  if (key === 'class') el.className = value;
  else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
  else if (key === 'value' || key === 'checked') el[key] = value;
  else el.setAttribute(key, value === true ? '' : String(value));
}

/** Elements whose content is text alone: no <bdi> in them. */
const TEXT_ONLY = new Set(['OPTION', 'TEXTAREA', 'TITLE', 'STYLE', 'SCRIPT']);
/** Elements whose text is kept exactly as given (a textarea's text is what it edits). */
const RAW = new Set(['TEXTAREA', 'STYLE', 'SCRIPT']);
const HTML = 'http://www.w3.org/1999/xhtml';

/**
 * Appends children: nodes, strings (as text nodes, each isolated in a <bdi>), arrays of them;
 * null and false are skipped.
 */
export function append(el, children) {
  const isolate = el.namespaceURI === HTML && !TEXT_ONLY.has(el.tagName);
  for (const child of [children].flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    if (child instanceof Node) el.appendChild(child);
    else if (isolate) el.appendChild(isolated(String(child)));
    else el.appendChild(document.createTextNode(RAW.has(el.tagName) ? String(child) : isolatedText(String(child))));
  }
  return el;
}

function isolated(text) {
  const bdi = document.createElement('bdi');
  bdi.appendChild(document.createTextNode(text));
  return bdi;
}

/** Right-to-left letters and the characters that change direction. */
const NEEDS_ISOLATION = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\u202a-\u202e\u2066-\u2069\u{10800}-\u{10fff}\u{1e800}-\u{1efff}]/u;

/**
 * A text between first-strong-isolate and pop-directional-isolate marks when it holds anything
 * that could turn the text around it (right-to-left letters, direction controls); as it is
 * otherwise. For text in a sentence, or where no element may go (an option, an SVG text).
 */
export function isolatedText(text) {
  return NEEDS_ISOLATION.test(text) ? `\u2068${text}\u2069` : text;
}

/**
 * Replaces a container's children and keeps keyboard focus where it was: the element with the
 * same `data-key` gets focus back, so a live update never throws a screen reader or keyboard
 * user off the button they were on.
 */
export function replace(container, ...children) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.getAttribute('data-key') : null;
  container.replaceChildren();
  append(container, children);
  if (key) {
    const again = container.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again && !again.disabled) again.focus({ preventScroll: true });
  }
}

/** A text visible only to screen readers. */
export function srOnly(text) {
  return h('span', { class: 'sr-only' }, text);
}
