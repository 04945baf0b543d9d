// Activity: a live feed of the event stream, newest first. Where this vfiod has no event stream, the
// feed shows the assignment changes seen between refreshes instead, and says so.
import {h, replace, heading, time, deviceLink, coalesce} from './dom.js';
import {all} from './api.js';
import {live} from './live.js';
import {remember} from './view-operation.js';

const MAX = 300;

export async function render(main) {
  const list = h('ol', {class: 'feed', 'aria-label': 'Events, newest first', 'aria-live': 'polite', 'aria-relevant': 'additions'});
  const mode = h('p', {class: 'muted'});
  const typeFilter = h('input', {type: 'search', 'aria-label': 'Show only events whose type contains', placeholder: 'type filter, e.g. assignment'});
  replace(main, heading('Activity'), mode, typeFilter, list);
  const shown = () => live.history.slice().reverse().filter((e) => e.type !== 'tick' && e.type !== 'resync' && e.type.includes(typeFilter.value.trim()));
  const draw = () => {
    mode.textContent = live.mode === 'poll'
      ? 'This vfiod has no event stream: the feed shows assignment changes seen every few seconds.'
      : `Live from the event stream${live.cursor ? ` (cursor ${live.cursor})` : ''}.`;
    const events = shown().slice(0, MAX);
    replace(list, events.length ? events.map(item) : h('li', {class: 'muted'}, 'Nothing yet: changes appear here as they happen.'));
  };
  typeFilter.addEventListener('input', draw);
  draw();
  const states = new Map();
  const poll = coalesce(async () => { await diff(states); draw(); });
  return {
    onEvent(event) {
      if (event.type === 'operation.changed' && event.data?.id) {
        remember({id: event.data.id, kind: event.data.kind, assignment: event.data.assignmentId, group: event.data.group});
      }
      if (event.type === 'resync') return;
      if (event.type !== 'tick') { list.prepend(item(event)); list.querySelector('li.muted')?.remove(); return; }
      poll();
    },
  };
}

/** Poll mode: records the assignments whose state changed since the last look as feed entries. */
async function diff(states) {
  const items = await all('/v1/assignments', {pageSize: 1000});
  const first = states.size === 0;
  for (const a of items) {
    const before = states.get(a.id);
    states.set(a.id, a.state);
    if (!first && before !== a.state) {
      live.history.push({type: 'assignment.changed', data: {id: a.id, state: a.state, group: a.group,
        holder: a.holder, generation: a.generation}, at: new Date()});
    }
  }
}

function item(event) {
  const d = event.data || {};
  return h('li', {class: `event t-${event.type.replace('.', '-')}`},
    time(event.at.toISOString()), ' ', h('strong', {}, event.type), ' ', summary(event.type, d));
}

function summary(type, d) {
  switch (type) {
    case 'assignment.changed':
      return [h('span', {class: 'mono'}, d.id), ` → ${d.state}`, d.group !== undefined ? ` (group ${d.group})` : '',
        d.holder ? ` for ${d.holder.id ?? d.holder}` : '', d.generation ? ` gen ${d.generation}` : ''];
    case 'operation.changed':
      return [h('a', {href: `#/operations/${d.id}`, class: 'mono'}, d.id), ` ${d.kind} → ${d.state}`, d.error ? ` — ${d.error}` : ''];
    case 'operation.step':
      return [h('a', {href: `#/operations/${d.operationId}`}, `step ${d.seq}`), ` ${d.action} `, deviceLink(d.device), ` → ${d.state}`,
        d.durationMs !== undefined && d.durationMs !== null ? ` in ${d.durationMs} ms` : ''];
    case 'device.changed':
      return [deviceLink(d.address), ` → ${d.state}${d.driver ? ` on ${d.driver}` : ''}`];
    case 'group.changed':
      return `group ${d.id}: ${d.assignable ? 'assignable' : 'not assignable'}`;
    case 'audit.appended':
      return `#${d.seq} ${d.action} by ${d.actor}`;
    case 'inventory.rescanned':
      return `generation ${d.generation}`;
    case 'reset':
      return `the stream restarted (${d.reason}); views list again`;
    default:
      return typeof d === 'object' ? JSON.stringify(d).slice(0, 200) : String(d);
  }
}
