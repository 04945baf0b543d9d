// Operations: the ones this session started or saw go by, and one operation as a waterfall of its
// journaled steps (durations, errors), with a release's openers, relayed device requests and escalation.
// A running operation is followed with the API's long-poll (?wait=) and with the event stream.
import {h, replace, heading, badge, time, duration, facts, table, field, deviceLink, coalesce} from './dom.js';
import {get} from './api.js';

const KEY = 'vfiod.operations';

/** Remembers an operation for the list ({id, kind, assignment, group}). */
export function remember(op) {
  const list = known().filter((o) => o.id !== op.id);
  list.unshift({...op, at: new Date().toISOString()});
  sessionStorage.setItem(KEY, JSON.stringify(list.slice(0, 200)));
}

/** Every remembered operation, newest first. */
export function known() {
  try { return JSON.parse(sessionStorage.getItem(KEY) || '[]'); } catch { return []; }
}

/** The remembered operations of an assignment. */
export function operationsOf(assignment) { return known().filter((o) => o.assignment === assignment); }

const FINAL = ['succeeded', 'failed', 'completed_on_recovery', 'rolled_back'];

export async function render(main, [id], search) {
  if (id) return one(main, id);
  return search?.get('assignment') ? ofAssignment(main, search.get('assignment')) : list(main);
}

/** Every operation of one assignment, from the API, oldest first. */
async function ofAssignment(main, assignment) {
  const body = h('div', {});
  replace(main, heading(`Operations of ${assignment}`), body);
  const draw = async () => {
    const page = await get(`/v1/assignments/${encodeURIComponent(assignment)}/operations`);
    page.items.forEach((o) => remember({id: o.id, kind: o.kind, assignment: o.assignment, group: o.group}));
    replace(body, page.items.length
      ? table(`Operations of assignment ${assignment}, oldest first`, ['Operation', 'Kind', 'State', 'Steps', 'Started', 'Took', 'Error'],
          page.items.map((o) => h('tr', {}, h('td', {}, h('a', {href: `#/operations/${o.id}`, class: 'mono'}, o.id)),
            h('td', {}, o.kind), h('td', {}, badge(o.state)), h('td', {class: 'num'}, String(o.steps.length)), h('td', {}, time(o.startedAt)),
            h('td', {class: 'num'}, o.startedAt && o.finishedAt ? duration(Date.parse(o.finishedAt) - Date.parse(o.startedAt)) : '—'),
            h('td', {}, o.error || ''))))
      : h('p', {class: 'muted'}, 'No operations.'));
  };
  await draw();
  const refresh = coalesce(draw);
  return {
    onEvent(event) {
      const mine = ['tick', 'resync', 'reset'].includes(event.type) || (event.type.startsWith('operation.') && event.data?.assignmentId === assignment);
      if (mine) refresh();
    },
  };
}

function list(main) {
  const input = h('input', {autocomplete: 'off', spellcheck: 'false', required: true});
  const form = h('form', {class: 'filters'}, field('Operation id', input), h('button', {type: 'submit'}, 'Open'));
  form.addEventListener('submit', (e) => { e.preventDefault(); if (input.value.trim()) location.hash = `#/operations/${encodeURIComponent(input.value.trim())}`; });
  const body = h('div', {});
  const draw = () => {
    const ops = known();
    replace(body, ops.length
      ? table('Operations started or seen in this session', ['Operation', 'Kind', 'Assignment', 'Group', 'Seen'],
          ops.map((o) => h('tr', {}, h('td', {}, h('a', {href: `#/operations/${o.id}`, class: 'mono'}, o.id)),
            h('td', {}, o.kind || '—'), h('td', {class: 'mono'}, o.assignment || '—'), h('td', {}, String(o.group ?? '—')),
            h('td', {}, time(o.at)))))
      : h('p', {class: 'muted'}, 'No operations yet in this session. Leases, releases and resets you start, and those the live stream reports, appear here.'));
  };
  replace(main, heading('Operations'), form, body);
  draw();
  return {onEvent(event) { if (event.type === 'operation.changed') draw(); }};
}

async function one(main, id) {
  const body = h('div', {});
  replace(main, heading(`Operation ${id}`), body);
  let stopped = false;
  const controller = new AbortController();
  let op = await get(`/v1/operations/${encodeURIComponent(id)}`);
  replace(body, ...view(op));
  // Follows a running operation by long-poll until it ends (the event stream only makes it sooner).
  const follow = async () => {
    while (!stopped && !FINAL.includes(op.state)) {
      try {
        op = await get(`/v1/operations/${encodeURIComponent(id)}?wait=20`, {signal: controller.signal});
        if (!stopped) replace(body, ...view(op));
      } catch (error) {
        if (error.name === 'AbortError') return;
        throw error;
      }
    }
  };
  follow().catch((error) => { if (!stopped) replace(body, h('p', {class: 'form-error'}, `${error.title}: ${error.detail}`)); });
  const refresh = coalesce(async () => {
    const next = await get(`/v1/operations/${encodeURIComponent(id)}`);
    op = next;
    if (!stopped) replace(body, ...view(op));
  });
  return {
    onEvent(event) {
      const mine = event.data && (event.data.operationId === id || event.data.id === id);
      if (mine && event.type.startsWith('operation.')) refresh();
    },
    stop() { stopped = true; controller.abort(); },
  };
}

function view(op) {
  return [
    h('section', {class: 'card', 'aria-labelledby': 'op-h'}, h('h2', {id: 'op-h'}, 'Summary', ' ', badge(op.state)),
      facts([['Id', h('span', {class: 'mono'}, op.id)], ['Kind', op.kind],
        ['Assignment', h('span', {class: 'mono'}, op.assignment)], ['Group', String(op.group)],
        ['Created', time(op.createdAt)], ['Started', time(op.startedAt)], ['Finished', time(op.finishedAt)],
        ['Took', op.startedAt && op.finishedAt ? duration(Date.parse(op.finishedAt) - Date.parse(op.startedAt)) : '—'],
        ['Actor', op.actor], op.reason && ['Reason', op.reason], op.error && ['Error', h('span', {class: 'form-error'}, op.error)],
        op.pausedReason && ['Paused because', op.pausedReason]])),
    waterfall(op),
    release(op),
  ];
}

function waterfall(op) {
  const steps = op.steps || [];
  const start = Math.min(...steps.map((s) => Date.parse(s.startedAt)), Date.parse(op.startedAt || op.createdAt));
  const last = op.finishedAt ? Date.parse(op.finishedAt) : Date.now();
  const end = Math.max(...steps.map((s) => Date.parse(s.finishedAt || s.startedAt)), start + 1, last);
  const span = end - start;
  const rows = steps.map((s) => {
    const from = Date.parse(s.startedAt) - start;
    const to = Date.parse(s.finishedAt || new Date().toISOString()) - start;
    const bar = h('span', {class: `bar s-${s.state}`});
    bar.style.marginLeft = `${(100 * from) / span}%`;
    bar.style.width = `${Math.max(0.5, (100 * (to - from)) / span)}%`;
    return h('tr', {class: 'step', dataset: {state: s.state}},
      h('td', {}, String(s.seq)), h('td', {}, s.action), h('td', {}, deviceLink(s.device)), h('td', {}, badge(s.state)),
      h('td', {class: 'num'}, duration(s.durationMs)), h('td', {class: 'lane'}, bar),
      h('td', {}, s.error ? h('span', {class: 'form-error'}, s.error) : ''));
  });
  return h('section', {class: 'card', 'aria-labelledby': 'steps-h'}, h('h2', {id: 'steps-h'}, `Steps (${steps.length})`),
    steps.length ? h('div', {class: 'scroll'}, table('Journaled steps, as a waterfall from the operation’s start',
      ['#', 'Action', 'Device', 'State', 'Took', 'Timeline', 'Error'], rows, {class: 'waterfall'}))
      : h('p', {class: 'muted'}, 'No step journaled yet.'));
}

function release(op) {
  if (op.kind !== 'release' && !(op.openers || []).length && !op.escalation && !op.reset) return null;
  return h('section', {class: 'card', 'aria-labelledby': 'rel-h'}, h('h2', {id: 'rel-h'}, 'Release details'),
    (op.openers || []).length
      ? table('Openers: processes that had the devices open', ['PID', 'Command line', 'Files', 'Since', 'Gone'],
          op.openers.map((o) => h('tr', {}, h('td', {}, String(o.pid)), h('td', {class: 'mono'}, o.commandLine || '—'),
            h('td', {class: 'mono'}, o.paths.join(', ')), h('td', {}, time(o.since)), h('td', {}, time(o.goneAt)))))
      : h('p', {}, 'No process held the devices open.'),
    facts([['Device requests relayed', `${op.requestsRelayedCount ?? 0}${op.requestsRelayedSource ? ` (${op.requestsRelayedSource})` : ''}`],
      ['Escalation', op.escalation ? `${op.escalation.policy}: ${op.escalation.signal || 'no signal'} to ${op.escalation.pids.join(', ') || 'nobody'} at ${new Date(op.escalation.at).toLocaleTimeString('en-GB')}` : 'none'],
      ['Stuck', op.stuck ? `yes, since ${op.stuckSince}` : 'no'], ['Callback', op.callback],
      op.reset && ['Reset', `${op.reset.method} via ${op.reset.path || '—'}; kernel scope ${op.reset.kernelScope.join(', ') || '—'}`]]),
    (op.requestsRelayed || []).length
      ? h('ol', {class: 'relayed', 'aria-label': 'Device requests relayed'}, op.requestsRelayed.map((r) => h('li', {}, `#${r.sequence}: ${r.text}`)))
      : null);
}
