// The dashboard's shell: sign-in state, the hash router, the error area, and the live connection every
// view listens to. Views are modules exporting `render(main, params)`, which may return
// {onEvent(event), stop()}.
import {h, replace} from './dom.js';
import {ApiError, get, session, whenUnauthenticated} from './api.js';
import {live} from './live.js';
import * as signin from './view-signin.js';
import * as host from './view-host.js';
import * as groups from './view-groups.js';
import * as device from './view-device.js';
import * as reset from './view-reset.js';
import * as assignments from './view-assignments.js';
import * as operation from './view-operation.js';
import * as audit from './view-audit.js';
import * as activity from './view-activity.js';

const routes = [
  [/^#\/host$/, host], [/^#\/groups$/, groups], [/^#\/device\/([^/]+)$/, device],
  [/^#\/reset\/([^/]+)$/, reset], [/^#\/assignments$/, assignments], [/^#\/operations$/, operation],
  [/^#\/operations\/([^/]+)$/, operation], [/^#\/audit$/, audit], [/^#\/activity$/, activity],
];

const main = document.getElementById('main');
const errors = document.getElementById('errors');
let current = null;
/** Events that arrived while the view being shown loaded (it listens only once its first load is done);
 * handed to it when it is ready, so a change made during that load is not lost. */
let arrivedWhileLoading = null;

/** Shows an error from the API (title and detail) or any other failure; `dismiss` removes it. */
export function showError(error) {
  if (error?.name === 'AbortError') return;
  const title = error instanceof ApiError ? error.title : 'Something failed';
  const detail = error instanceof ApiError ? error.detail : String(error?.message || error);
  const code = error instanceof ApiError && error.code !== 'unknown' ? ` (${error.code})` : '';
  const item = h('div', {class: 'error'},
    h('strong', {}, title + code), detail ? h('span', {}, ` — ${detail}`) : null,
    h('button', {type: 'button', class: 'link', 'aria-label': `Dismiss: ${title}`, onclick: () => item.remove()}, 'Dismiss'));
  errors.append(item);
  while (errors.children.length > 4) errors.firstElementChild.remove();
}

/** Clears shown errors (on navigation). */
function clearErrors() { errors.replaceChildren(); }

async function route() {
  current?.stop?.();
  current = null;
  arrivedWhileLoading = null;
  clearErrors();
  if (!session.token || !session.who) {
    showSignedOut();
    current = signin.render(main, [], {onSignedIn: signedIn});
    return;
  }
  let hash = location.hash || '#/groups';
  if (hash === '#/audit' && !session.can('audit')) hash = '#/groups';
  const [path, search = ''] = hash.split('?');
  const match = routes.map(([re, view]) => [path.match(re), view]).find(([m]) => m);
  if (!match) { location.hash = '#/groups'; return; }
  const [m, view] = match;
  markNav(path);
  const arrived = [];
  arrivedWhileLoading = arrived;
  try {
    current = await view.render(main, m.slice(1).map(decodeURIComponent), new URLSearchParams(search)) || null;
    // Unless another route began meanwhile (it takes the events from then on).
    if (arrivedWhileLoading === arrived) for (const event of arrived) current?.onEvent?.(event);
  } catch (error) {
    showError(error);
  } finally {
    if (arrivedWhileLoading === arrived) arrivedWhileLoading = null;
  }
}

function markNav(hash) {
  for (const a of document.querySelectorAll('#nav a')) {
    const here = hash.startsWith(a.getAttribute('href'));
    if (here) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
}

function showSignedOut() {
  document.getElementById('nav').hidden = true;
  document.getElementById('signout').hidden = true;
  replace(document.getElementById('who'));
  live.stop();
}

async function signedIn(who) {
  session.who = who;
  document.getElementById('nav').hidden = false;
  document.getElementById('signout').hidden = false;
  for (const a of document.querySelectorAll('#nav [data-role=audit]')) a.hidden = !session.can('audit');
  replace(document.getElementById('who'), `${who.name} · ${who.role}${who.tenant ? ` · ${who.tenant}` : ''}`);
  live.start();
  if (!location.hash || location.hash === '#/signin') location.hash = '#/groups'; else route();
}

function signOut(message) {
  session.token = null;
  session.who = null;
  signin.setMessage(message);
  if (location.hash === '#/signin') route(); else location.hash = '#/signin';
}

whenUnauthenticated((error) => signOut(`${error.title}: ${error.detail}`));
live.onEvent((event) => {
  if (current) current.onEvent?.(event);
  else if (arrivedWhileLoading && arrivedWhileLoading.length < 1000) arrivedWhileLoading.push(event);
});
live.onError(showError);
document.getElementById('signout').addEventListener('click', () => signOut('Signed out.'));
window.addEventListener('hashchange', route);
window.addEventListener('unhandledrejection', (e) => { showError(e.reason); e.preventDefault(); });

async function boot() {
  if (session.token) {
    try {
      await signedIn(await get('/v1/whoami'));
      return;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) showError(error);
      if (error instanceof ApiError && error.status === 401) return;
    }
  }
  route();
}
boot();
