// Groups and devices: each IOMMU group as a card with its members (name, driver, state by colour and by
// word), why it can or cannot be lent, its blockers; filter and search. Cards are drawn in batches as the
// list scrolls, and the search runs over precomputed text, so 4,096 functions stay smooth.
import {h, replace, heading, badge, debounce, field, deviceLink, coalesce} from './dom.js';
import {all, session} from './api.js';
import {openLeaseForm} from './view-assignments.js';

const BATCH = 60;
const STATES = ['', 'available', 'binding', 'assigned', 'releasing', 'quarantined', 'protected', 'host'];

export async function render(main) {
  const state = {groups: [], devices: new Map(), filtered: [], shown: 0};
  const search = h('input', {type: 'search', placeholder: 'address, name, driver, 10de:2204, group 12…'});
  const stateSelect = h('select', {}, STATES.map((s) => h('option', {value: s}, s || 'any state')));
  const assignable = h('input', {type: 'checkbox', dataset: {filter: 'assignable'}});
  const gpus = h('input', {type: 'checkbox', dataset: {filter: 'gpus'}});
  const count = h('p', {class: 'muted', 'aria-live': 'polite', id: 'group-count'});
  const list = h('div', {class: 'cards', role: 'list', 'aria-label': 'IOMMU groups'});
  const more = h('button', {type: 'button', class: 'more'}, 'Show more groups');
  const filters = h('form', {class: 'filters', role: 'search', 'aria-label': 'Filter groups'},
    field('Search', search), field('Member state', stateSelect),
    h('label', {class: 'check'}, assignable, ' Assignable only'),
    h('label', {class: 'check'}, gpus, ' GPUs only (class 03)'));
  filters.addEventListener('submit', (e) => e.preventDefault());
  replace(main, heading('Groups and devices'), filters, count, list, more);

  const apply = () => {
    const terms = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    state.filtered = state.groups.filter((g) => matches(g, terms, stateSelect.value, assignable.checked, gpus.checked));
    state.shown = 0;
    list.replaceChildren();
    drawMore();
  };
  const drawMore = () => {
    const next = state.filtered.slice(state.shown, state.shown + BATCH);
    list.append(...next.map((g) => card(g, state.devices)));
    state.shown += next.length;
    more.hidden = state.shown >= state.filtered.length;
    count.textContent = `${state.filtered.length} of ${state.groups.length} groups shown` +
      (state.shown < state.filtered.length ? ` (first ${state.shown} drawn; scroll or press “Show more”)` : '');
  };
  more.addEventListener('click', drawMore);
  const observer = new IntersectionObserver((entries) => { if (entries.some((e) => e.isIntersecting)) drawMore(); });
  observer.observe(more);
  search.addEventListener('input', debounce(apply, 120));
  for (const el of [stateSelect, assignable, gpus]) el.addEventListener('change', apply);

  const load = async () => {
    const [groups, devices] = await Promise.all([all('/v1/groups'), all('/v1/devices')]);
    state.devices = new Map(devices.map((d) => [d.address, d]));
    state.groups = groups.map((g) => decorate(g, state.devices));
  };
  await load();
  apply();
  main.dataset.ready = 'groups';
  performance.mark('vfiod:groups-drawn');

  const reload = coalesce(async () => { await load(); refresh(list, state); });
  let frame = 0;
  const redraw = () => { if (!frame) frame = requestAnimationFrame(() => { frame = 0; refresh(list, state); }); };
  return {
    onEvent(event) {
      // The stream's device and group changes are applied in place; a tick (no stream) or a reset lists again.
      if (event.type === 'device.changed' && event.data?.address) {
        state.devices.set(event.data.address, event.data);
        const group = state.groups.find((g) => g.id === event.data.iommuGroup);
        if (group) Object.assign(group, decorate(group, state.devices));
        redraw();
        return;
      }
      if (event.type === 'group.changed' && event.data?.id !== undefined) {
        const index = state.groups.findIndex((g) => g.id === event.data.id);
        const group = decorate(event.data, state.devices);
        if (index >= 0) state.groups[index] = group; else state.groups.push(group);
        redraw();
        return;
      }
      if (['tick', 'reset', 'resync'].includes(event.type)) reload();
    },
    stop() { observer.disconnect(); cancelAnimationFrame(frame); },
  };
}

/** A group with what filtering needs: its search text, its members' states, whether it holds a GPU. */
function decorate(g, devices) {
  const members = g.devices.map((a) => devices.get(a)).filter(Boolean);
  return {...g, text: searchText(g, devices), states: new Set(members.map((d) => d.state)),
    isGPU: members.some((d) => String(d.classCode).startsWith('03'))};
}

/** Redraws the cards already on screen whose group changed (keeps scroll position and focus). */
function refresh(list, state) {
  const byId = new Map(state.groups.map((g) => [g.id, g]));
  for (const el of [...list.children]) {
    const group = byId.get(Number(el.dataset.group));
    if (!group) { el.remove(); continue; }
    const signature = cardSignature(group, state.devices);
    if (el.dataset.signature !== signature && !el.contains(document.activeElement)) el.replaceWith(card(group, state.devices));
  }
}

function searchText(group, devices) {
  const parts = [`group ${group.id}`, `g${group.id}`];
  for (const address of group.devices) {
    const d = devices.get(address);
    if (!d) { parts.push(address); continue; }
    parts.push(address, d.vendorName, d.deviceName, d.className, d.driver, `${d.vendorId}:${d.deviceId}`, d.state, d.assignmentId);
  }
  return parts.filter(Boolean).join(' ').toLowerCase();
}

function matches(group, terms, state, assignableOnly, gpusOnly) {
  if (assignableOnly && !group.assignable) return false;
  if (state && !group.states.has(state)) return false;
  if (gpusOnly && !group.isGPU) return false;
  return terms.every((t) => group.text.includes(t));
}

function cardSignature(group, devices) {
  return [group.assignable, group.viable, ...group.devices.map((a) => {
    const d = devices.get(a);
    return `${a}/${d?.state}/${d?.driver}/${d?.assignmentId}`;
  })].join('|');
}

function card(group, devices) {
  const members = group.devices.map((a) => devices.get(a)).filter(Boolean);
  const title = `IOMMU group ${group.id}`;
  const el = h('article', {class: `card group ${group.assignable ? 'assignable' : ''}`, role: 'listitem',
    'aria-labelledby': `g-${group.id}-h`, dataset: {group: String(group.id)}},
    h('header', {},
      h('h2', {id: `g-${group.id}-h`}, title),
      group.assignable ? badge('available', 'assignable') : badge('blocked', 'not assignable'),
      group.viable ? null : badge('blocked', 'not viable')),
    h('ul', {class: 'members'}, members.map(member)),
    group.assignable ? null : h('p', {class: 'why'}, h('strong', {}, 'Why not: '), group.assignableReason || 'unknown'),
    group.blockers?.length
      ? h('ul', {class: 'blockers', 'aria-label': `Blockers of ${title}`},
          group.blockers.map((b) => h('li', {}, deviceLink(b.device), ` on ${b.driver || 'no driver'}: ${b.reason}`)))
      : null,
    actions(group));
  el.dataset.signature = cardSignature(group, devices);
  return el;
}

function member(d) {
  const name = [d.vendorName, d.deviceName].filter(Boolean).join(' ') || `${d.vendorId}:${d.deviceId}`;
  return h('li', {},
    deviceLink(d.address), ' ', badge(d.state),
    h('span', {class: 'name'}, ` ${name}`),
    h('span', {class: 'muted'}, ` · ${d.className || d.classCode} · driver ${d.driver || 'none'}`),
    d.state === 'host' || d.state === 'protected' ? h('span', {class: 'muted reason'}, ` — ${d.stateReason || ''}`) : null);
}

function actions(group) {
  if (!group.assignable || !session.can('lease')) return null;
  return h('div', {class: 'actions'},
    h('button', {type: 'button', class: 'primary', 'aria-label': `Lease IOMMU group ${group.id}`,
      onclick: () => openLeaseForm(group)}, 'Lease…'));
}
