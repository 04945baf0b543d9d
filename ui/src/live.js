// The live connection: Server-Sent Events from GET /v1/events, authenticated by a one-use ticket in the
// URL (EventSource cannot send an Authorization header; the ticket is worthless once used or after 60 s),
// resumed by cursor after a disconnect so no change is lost. When this vfiod has no event stream, views
// are refreshed every few seconds instead (their GETs revalidate with ETags).
import {ApiError, call} from './api.js';

const TYPES = ['audit.appended', 'assignment.changed', 'operation.changed', 'operation.step', 'device.changed',
  'group.changed', 'inventory.rescanned', 'reset', 'overflow', 'shutdown'];
const POLL_MS = 2000;

class Live {
  constructor() {
    this.listeners = [];
    this.errorListeners = [];
    this.source = null;
    this.cursor = null;
    this.timer = 0;
    this.retry = 0;
    this.running = false;
    this.mode = 'off';
    this.recent = [];
    this.opened = false;
  }

  onEvent(fn) { this.listeners.push(fn); }
  onError(fn) { this.errorListeners.push(fn); }

  /** The last events received (newest last), for the activity view. */
  get history() { return this.recent; }

  start() {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  stop() {
    this.running = false;
    this.source?.close();
    this.source = null;
    clearTimeout(this.timer);
    clearInterval(this.timer);
    this.mode = 'off';
    this.cursor = null;
    this.opened = false;
    banner(null);
  }

  async connect() {
    if (!this.running) return;
    let ticket;
    try {
      // Start from a known position (any list's X-Vfiod-Cursor), so a stream cut before its first event
      // still resumes where it began.
      if (!this.cursor) this.cursor = (await call('GET', '/v1/host')).headers.get('X-Vfiod-Cursor');
      ticket = (await call('POST', '/v1/events/tickets')).body.ticket;
    } catch (error) {
      if (error instanceof ApiError && (error.code === 'route_not_found' || error.code === 'method_not_allowed')) {
        this.poll();
        return;
      }
      if (error instanceof ApiError && error.status === 401) return;  // signed out by the API client
      this.disconnected(error.title);
      return;
    }
    const params = new URLSearchParams({ticket});
    if (this.cursor) params.set('since', this.cursor);
    const source = new EventSource(`/v1/events?${params}`);
    this.source = source;
    this.mode = 'stream';
    const resuming = this.opened;
    source.onopen = () => {
      this.retry = 0;
      banner(null);
      // A first stream starts live: views list again now that it is open, so nothing falls between their
      // lists and the stream (a change seen twice is harmless). A resumed one replays what was missed.
      if (!resuming) this.emit({type: 'resync', data: null, cursor: null, at: new Date()});
      this.opened = true;
    };
    source.onerror = () => {
      if (this.source !== source) return;
      source.close();
      this.source = null;
      this.disconnected('the event stream closed');
    };
    for (const type of TYPES) source.addEventListener(type, (message) => this.receive(type, message));
  }

  receive(type, message) {
    if (message.lastEventId) this.cursor = message.lastEventId;
    let data = null;
    try { data = message.data ? JSON.parse(message.data) : null; } catch { data = message.data; }
    const event = {type, data, cursor: message.lastEventId || null, at: new Date()};
    if (type === 'overflow' || type === 'shutdown') {
      if (type === 'overflow' && data?.cursor) this.cursor = data.cursor;
      this.source?.close();
      this.source = null;
      this.disconnected(type === 'shutdown' ? 'vfiod is shutting down' : 'the dashboard fell behind');
    }
    if (type === 'reset' && data?.cursor) this.cursor = data.cursor;
    this.recent.push(event);
    if (this.recent.length > 500) this.recent.splice(0, this.recent.length - 500);
    this.emit(event);
  }

  emit(event) {
    for (const fn of this.listeners) fn(event);
  }

  disconnected(reason) {
    if (!this.running) return;
    this.mode = 'reconnecting';
    const wait = Math.min(30000, 1000 * 2 ** this.retry++);
    banner(`Live updates disconnected (${reason}); reconnecting in ${Math.round(wait / 1000)} s — nothing is lost, changes are replayed from where the stream stopped.`);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  poll() {
    this.mode = 'poll';
    banner(null);
    this.timer = setInterval(() => {
      this.emit({type: 'tick', data: null, cursor: null, at: new Date()});
    }, POLL_MS);
  }
}

function banner(text) {
  const el = document.getElementById('banner');
  el.hidden = !text;
  el.textContent = text || '';
}

export const live = new Live();
