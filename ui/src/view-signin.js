// Sign-in: the user pastes a token once; it is kept in sessionStorage (this tab only) and sent as a
// bearer token, never put in a URL or a cookie.
import {h, replace, heading, field} from './dom.js';
import {ApiError, get, session} from './api.js';

let message = '';

/** The message shown above the form next time (why the user was signed out). */
export function setMessage(text) { message = text || ''; }

export function render(main, _params, {onSignedIn}) {
  const input = h('input', {type: 'password', name: 'token', autocomplete: 'off', spellcheck: 'false', required: true,
    placeholder: 'vfiod_…'});
  const status = h('p', {class: 'form-error', role: 'alert', id: 'signin-error'}, message);
  const submit = h('button', {type: 'submit'}, 'Sign in');
  const form = h('form', {class: 'card signin', 'aria-labelledby': 'signin-title', novalidate: true},
    field('API token', input, 'Made by `vfiod token create`. Kept for this tab only (sessionStorage).'),
    submit, status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) { replace(status, 'Paste a token first.'); input.focus(); return; }
    submit.disabled = true;
    session.token = token;
    try {
      const who = await get('/v1/whoami');
      message = '';
      await onSignedIn(who);
    } catch (error) {
      session.token = null;
      replace(status, error instanceof ApiError ? `${error.title}: ${error.detail}` : String(error.message));
      submit.disabled = false;
      input.focus();
    }
  });
  replace(main, h('h1', {id: 'signin-title'}, 'Sign in to vfiod'), form);
  if (message) status.textContent = message;
  input.focus();
  return null;
}
