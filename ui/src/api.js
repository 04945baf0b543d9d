// The API client: every call carries the session's token; every error becomes an ApiError with the
// problem's title and detail (never swallowed). A 401 signs the user out with the server's reason.

const KEY = 'vfiod.token';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.title = problem.title || `HTTP ${status}`;
    this.detail = problem.detail || '';
    this.code = problem.code || 'unknown';
    this.problem = problem;
  }
}

export const session = {
  get token() { return sessionStorage.getItem(KEY); },
  set token(value) {
    if (value) sessionStorage.setItem(KEY, value); else sessionStorage.removeItem(KEY);
  },
  /** {name, role, tenant} after sign-in. */
  who: null,
  can(what) {
    const role = this.who?.role;
    if (what === 'lease') return role === 'operator' || role === 'admin';
    if (what === 'audit') return role === 'auditor' || role === 'admin';
    if (what === 'admin') return role === 'admin';
    return !!role;
  },
};

/** Called with the problem when the server refuses the token (401). */
let onUnauthenticated = () => {};
export function whenUnauthenticated(fn) { onUnauthenticated = fn; }

/** One API call. Returns {status, body, headers}; throws ApiError for 4xx/5xx. */
export async function call(method, path, {body, headers = {}, signal} = {}) {
  const init = {method, headers: {Accept: 'application/json', ...headers}, signal, cache: 'no-cache'};
  if (session.token) init.headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, {title: 'vfiod cannot be reached', detail: `${method} ${path}: ${error.message}`});
  }
  const type = response.headers.get('Content-Type') || '';
  const parsed = type.includes('json') ? await response.json() : await response.text();
  if (response.status >= 400) {
    const problem = typeof parsed === 'object' ? parsed : {title: `HTTP ${response.status}`, detail: String(parsed).slice(0, 300)};
    const error = new ApiError(response.status, problem);
    if (response.status === 401) onUnauthenticated(error);
    throw error;
  }
  return {status: response.status, body: parsed, headers: response.headers};
}

/** GET and return the body. */
export async function get(path, options) {
  return (await call('GET', path, options)).body;
}

/** Every item of a keyset-paged list (follows nextPageToken). */
export async function all(path, {pageSize = 10000, signal} = {}) {
  const items = [];
  let token = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const url = `${path}${sep}pageSize=${pageSize}${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`;
    const page = await get(url, {signal});
    items.push(...page.items);
    token = page.nextPageToken;
  } while (token);
  return items;
}

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const pairs = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return pairs.length ? `?${new URLSearchParams(pairs)}` : '';
}
