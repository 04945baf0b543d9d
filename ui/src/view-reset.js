// The reset scope: what a reset of a device would touch, drawn as the PCI tree (bus by bus, bridges
// first), each function coloured and labelled by its owner, with the blockers named — before an admin
// confirms the reset.
import {h, replace, heading, badge, facts, deviceLink, field} from './dom.js';
import {call, get, query, session} from './api.js';
import {remember} from './view-operation.js';

export async function render(main, [address], search) {
  const method = h('select', {}, [['', 'vfiod’s choice'], ['function', 'function reset'], ['hot', 'hot reset of the bus']]
    .map(([v, t]) => h('option', {value: v}, t)));
  method.value = search?.get('method') || '';
  const body = h('div', {});
  const form = h('form', {class: 'filters'}, field('Method', method), h('button', {type: 'submit'}, 'Preview'));
  replace(main, heading(`Reset scope of ${address}`), form, body);
  const draw = async () => {
    const preview = await get(`/v1/devices/${encodeURIComponent(address)}/reset-scope${query({method: method.value})}`);
    replace(body, ...view(address, preview, method.value));
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); draw(); });
  await draw();
  return null;
}

function view(address, p, method) {
  return [
    h('section', {class: 'card', 'aria-labelledby': 'scope-h'}, h('h2', {id: 'scope-h'}, 'Preview'),
      facts([['Method', p.method || 'none possible'], ['Why', p.reason], ['Assignment', p.assignmentId],
        ['IOMMU groups in scope', p.groups.join(', ') || '—'],
        ['Can reset now', p.canReset ? 'yes' : 'no']]),
      p.blockers.length ? h('div', {class: 'blockers-box'}, h('h3', {}, 'Blockers'),
        h('ul', {class: 'blockers'}, p.blockers.map((b) => h('li', {}, b.address ? [deviceLink(b.address), ': '] : null, b.reason)))) : null),
    h('section', {class: 'card', 'aria-labelledby': 'tree-h'}, h('h2', {id: 'tree-h'}, 'Functions in scope, by bus'),
      tree(address, p.devices), legend()),
    confirm(address, p, method),
  ];
}

/** The functions grouped by domain:bus, bridges first, as a nested list (a tree screen readers announce). */
function tree(target, devices) {
  const buses = new Map();
  for (const d of devices) {
    const bus = d.address.split(':').slice(0, 2).join(':');
    if (!buses.has(bus)) buses.set(bus, []);
    buses.get(bus).push(d);
  }
  const sorted = [...buses.entries()].sort(([a], [b]) => a.localeCompare(b));
  return h('ul', {class: 'tree', role: 'tree', 'aria-label': 'PCI functions in the reset scope'}, sorted.map(([bus, list]) =>
    h('li', {role: 'treeitem', 'aria-expanded': 'true'}, h('span', {class: 'bus'}, `bus ${bus}`),
      h('ul', {role: 'group'}, list.sort((a, b) => (b.isBridge - a.isBridge) || a.address.localeCompare(b.address)).map((d) =>
        h('li', {role: 'treeitem', class: `owner o-${d.owner}${d.address === target ? ' target' : ''}`},
          d.isBridge ? '⤷ bridge ' : '', deviceLink(d.address), ' ', badge(`o-${d.owner}`, d.owner),
          h('span', {class: 'muted'}, ` group ${d.iommuGroup ?? '—'} · ${d.driver || 'no driver'} · ${d.state}`),
          d.address === target ? h('strong', {}, ' (this device)') : null))))));
}

function legend() {
  return h('p', {class: 'legend'}, ['free', 'this-assignment', 'another-assignment', 'quarantined', 'host']
    .map((o) => [badge(`o-${o}`, o), ' ']));
}

function confirm(address, p, method) {
  if (!session.can('admin') || !p.canReset) return null;
  const button = h('button', {type: 'button', class: 'danger'}, `Reset ${address} (${p.method})`);
  button.addEventListener('click', async () => {
    if (!button.classList.contains('confirm')) {
      button.classList.add('confirm');
      button.textContent = `Confirm: reset ${p.devices.length} function(s)`;
      return;
    }
    button.disabled = true;
    try {
      const answer = await call('POST', `/v1/devices/${encodeURIComponent(address)}/reset`, {body: method ? {method} : {}});
      const id = (answer.headers.get('Operation-Location') || '').split('/').pop();
      if (id) { remember({id, kind: 'reset', assignment: p.assignmentId, group: p.groups[0]}); location.hash = `#/operations/${id}`; }
    } finally { button.disabled = false; }
  });
  return h('section', {class: 'card'}, h('h2', {}, 'Reset'), h('p', {}, 'Everything above is touched by this reset.'), button);
}
