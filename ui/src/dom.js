// Small DOM and formatting helpers shared by every view. No innerHTML with data: everything goes through
// text nodes, so nothing the API returns can become markup.

/** Creates an element: h('a', {href: '#/x', class: 'y', onclick: f}, 'text', child, [more]). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'text') el.textContent = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A state word with its colour class (the word is always there: colour is never the only cue). */
export function badge(state, label = state) {
  return h('span', {class: `badge s-${String(state).replace(/[^a-z0-9-]/gi, '-')}`}, label ?? '—');
}

/** A definition list from [term, value] pairs. */
export function facts(pairs) {
  return h('dl', {class: 'facts'}, pairs.filter(Boolean).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '—')]));
}

/** A table with a caption, column headings and rows of cells. */
export function table(caption, headings, rows, attrs = {}) {
  return h('table', attrs,
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headings.map((t) => h('th', {scope: 'col'}, t)))),
    h('tbody', {}, rows));
}

/** "2026-12-07 14:03:05" in local time, with the ISO time in a <time>. */
export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  const text = `${d.toLocaleDateString('en-CA')} ${d.toLocaleTimeString('en-GB')}`;
  return h('time', {datetime: iso}, text);
}

/** 1.2 s, 340 ms, 3 min 4 s, 2 h 5 min, 3 d 4 h. */
export function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms * 10) / 10} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.floor(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** A heading for a view, focused so screen readers announce the new view. */
export function heading(text) {
  const el = h('h1', {tabindex: '-1'}, text);
  queueMicrotask(() => el.focus({preventScroll: true}));
  return el;
}

/** Waits `ms` after the last call before running `fn` (filters typed into). */
export function debounce(fn, ms) {
  let timer = 0;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

/** A labelled form field: label, control, optional hint. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const hintEl = hint ? h('span', {class: 'hint', id: `${id}-hint`}, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', {class: 'field'}, h('label', {for: id}, label), control, hintEl);
}

/** A link to a device's detail. */
export function deviceLink(address) {
  return address ? h('a', {href: `#/device/${encodeURIComponent(address)}`, class: 'mono'}, address) : '—';
}

/** Wraps an async `fn` so calls never overlap, and a call made while one runs makes one more run after
 * it (a change announced during a reload is never lost). Errors go to `onError`. */
export function coalesce(fn, onError = (e) => { throw e; }) {
  let running = false;
  let again = false;
  const run = async () => {
    if (running) { again = true; return; }
    running = true;
    try {
      do { again = false; await fn(); } while (again);
    } catch (error) {
      onError(error);
    } finally {
      running = false;
    }
  };
  return run;
}
