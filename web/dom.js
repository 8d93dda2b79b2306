// A tiny DOM helper. Text always goes in as text nodes, never as HTML, so whatever a person
// typed is shown as the characters they typed.

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

/** Appends children: nodes, strings (as text nodes), arrays of them; null and false are skipped. */
export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
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
