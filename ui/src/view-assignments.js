// Assignments: holder, tenant, state (with the states this page saw it pass through), devices, a live
// countdown to expiry, generation; lease (a form), renew and release for roles that may.
import {h, replace, heading, badge, time, duration, field, deviceLink, coalesce} from './dom.js';
import {all, call, query, session} from './api.js';
import {remember, operationsOf} from './view-operation.js';

/** The states this page has seen each assignment in, oldest first (id → [state]). */
const seen = new Map();

function note(a) {
  const states = seen.get(a.id) || [];
  if (states[states.length - 1] !== a.state) states.push(a.state);
  seen.set(a.id, states);
}

export async function render(main) {
  const stateFilter = h('select', {}, ['', 'binding', 'active', 'releasing', 'released', 'failed', 'lost']
    .map((s) => h('option', {value: s}, s || 'any state')));
  const holder = h('input', {type: 'search'});
  const body = h('div', {});
  const filters = h('form', {class: 'filters', role: 'search', 'aria-label': 'Filter assignments'},
    field('State', stateFilter), field('Holder id', holder), h('button', {type: 'submit'}, 'Apply'));
  replace(main, heading('Assignments'), filters, body);
  const load = async () => {
    const items = await all(`/v1/assignments${query({state: stateFilter.value, holder: holder.value.trim()})}`, {pageSize: 1000});
    items.forEach(note);
    draw(body, items);
  };
  filters.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  stateFilter.addEventListener('change', load);
  await load();
  const ticker = setInterval(() => tick(body), 1000);
  const refresh = coalesce(load);
  return {
    onEvent(event) {
      if (event.type === 'assignment.changed' && event.data?.id) note(event.data);
      if (['tick', 'assignment.changed', 'reset', 'resync'].includes(event.type)) refresh();
    },
    stop() { clearInterval(ticker); },
  };
}

function draw(body, items) {
  // Unchanged data keeps the DOM as it is (focus, a release waiting for its confirmation).
  const signature = JSON.stringify(items.map((a) => [a.id, a.state, a.generation, a.expiresAt, seen.get(a.id)]));
  if (body.dataset.signature === signature) return;
  body.dataset.signature = signature;
  if (!items.length) { replace(body, h('p', {class: 'muted'}, 'No assignments match.')); return; }
  const focused = document.activeElement?.dataset?.action;
  replace(body, h('div', {class: 'cards', role: 'list', 'aria-label': 'Assignments'}, items.map(row)));
  if (focused) body.querySelector(`[data-action="${CSS.escape(focused)}"]`)?.focus();
  tick(body);
}

function row(a) {
  const live = ['binding', 'active', 'releasing'].includes(a.state);
  const ops = operationsOf(a.id);
  return h('article', {class: 'card assignment', role: 'listitem', 'aria-labelledby': `a-${a.id}`, dataset: {assignment: a.id, state: a.state, group: String(a.group)}},
    h('header', {}, h('h2', {id: `a-${a.id}`, class: 'mono'}, a.id), badge(a.state),
      h('span', {class: 'trail', 'aria-label': 'States seen'}, (seen.get(a.id) || [a.state]).join(' → '))),
    h('dl', {class: 'facts'},
      h('dt', {}, 'Holder'), h('dd', {}, a.holder.id), h('dt', {}, 'Tenant'), h('dd', {}, a.holder.tenant),
      h('dt', {}, 'Group'), h('dd', {}, String(a.group)),
      h('dt', {}, 'Devices'), h('dd', {}, a.devices.flatMap((d, i) => [i ? ', ' : '', deviceLink(d.address)])),
      h('dt', {}, 'Expires'), h('dd', {}, time(a.expiresAt), ' ',
        live ? h('span', {class: 'countdown', dataset: {expires: a.expiresAt}}) : null),
      h('dt', {}, 'Generation'), h('dd', {}, String(a.generation)),
      a.failure ? [h('dt', {}, 'Failure'), h('dd', {}, a.failure)] : null,
      a.releaseReason ? [h('dt', {}, 'Released because'), h('dd', {}, a.releaseReason)] : null,
      h('dt', {}, 'Operations'), h('dd', {}, ops.flatMap((o) =>
        [h('a', {href: `#/operations/${o.id}`}, `${o.kind} …${o.id.slice(-8)}`), ', ']),
        h('a', {href: `#/operations?assignment=${encodeURIComponent(a.id)}`, class: 'all-ops'}, ops.length ? 'all' : 'list them'))),
    actions(a));
}

function tick(body) {
  const now = Date.now();
  for (const el of body.querySelectorAll('.countdown')) {
    const left = Date.parse(el.dataset.expires) - now;
    el.textContent = left > 0 ? `(${duration(left - (left % 1000))} left)` : '(expiring)';
    el.classList.toggle('soon', left < 5 * 60 * 1000);
  }
}

function actions(a) {
  if (!session.can('lease') || !['active', 'binding'].includes(a.state)) return null;
  const renew = h('button', {type: 'button', dataset: {action: `renew-${a.id}`}, 'aria-label': `Renew ${a.id} for ${a.ttlSeconds} s`},
    `Renew (${duration(a.ttlSeconds * 1000)})`);
  renew.addEventListener('click', async () => {
    renew.disabled = true;
    try {
      await call('POST', `/v1/assignments/${a.id}/renew`, {body: {ttlSeconds: a.ttlSeconds}, headers: {'If-Match': `"g${a.generation}"`}});
    } finally { renew.disabled = false; }
  });
  const release = h('button', {type: 'button', class: 'danger', dataset: {action: `release-${a.id}`}, 'aria-label': `Release ${a.id}`}, 'Release');
  release.addEventListener('click', async () => {
    if (!release.classList.contains('confirm')) {
      release.classList.add('confirm');
      release.textContent = 'Confirm release';
      return;
    }
    release.disabled = true;
    try {
      const answer = await call('DELETE', `/v1/assignments/${a.id}`);
      const location = answer.headers.get('Operation-Location');
      if (location) remember({id: location.split('/').pop(), kind: 'release', assignment: a.id, group: a.group});
      location && (window.location.hash = `#/operations/${location.split('/').pop()}`);
    } finally { release.disabled = false; }
  });
  return h('div', {class: 'actions'}, renew, release);
}

/** The lease form for `group`, in a modal dialog; on success, the assignments view. */
export function openLeaseForm(group) {
  const holderId = h('input', {required: true, autocomplete: 'off', pattern: '[A-Za-z0-9._:-]{1,128}', name: 'holder'});
  const tenant = h('input', {required: true, autocomplete: 'off', pattern: '[A-Za-z0-9._:-]{1,128}', name: 'tenant', value: session.who?.tenant || ''});
  if (session.who?.tenant) tenant.readOnly = true;
  const ttl = h('input', {type: 'number', min: '1', step: '1', value: '3600', required: true, name: 'ttl'});
  const resetOnRelease = h('input', {type: 'checkbox', name: 'resetOnRelease'});
  const error = h('p', {class: 'form-error', role: 'alert'});
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Lease');
  const cancel = h('button', {type: 'button'}, 'Cancel');
  const dialog = h('dialog', {'aria-labelledby': 'lease-h', class: 'lease'},
    h('form', {method: 'dialog', novalidate: true},
      h('h2', {id: 'lease-h'}, `Lease IOMMU group ${group.id}`),
      h('p', {class: 'muted'}, `${group.devices.length} function(s): ${group.devices.join(', ')}`),
      field('Holder id', holderId, 'The VM or container, e.g. vm-7'), field('Tenant', tenant),
      field('Time to live (seconds)', ttl), h('label', {class: 'check'}, resetOnRelease, ' Reset the devices on release'),
      error, h('div', {class: 'actions'}, submit, cancel)));
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  dialog.querySelector('form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!holderId.value.trim() || !tenant.value.trim()) { error.textContent = 'Holder id and tenant are required.'; return; }
    submit.disabled = true;
    try {
      const answer = await call('POST', '/v1/assignments', {body: {group: group.id, holder: {id: holderId.value.trim(),
        tenant: tenant.value.trim()}, ttlSeconds: Number(ttl.value), resetOnRelease: resetOnRelease.checked},
        headers: {'Idempotency-Key': crypto.randomUUID()}});
      note(answer.body);
      const location = answer.headers.get('Operation-Location');
      if (location) remember({id: location.split('/').pop(), kind: 'bind', assignment: answer.body.id, group: group.id});
      dialog.close();
      window.location.hash = '#/assignments';
    } catch (e) {
      error.textContent = `${e.title || 'Error'}: ${e.detail || e.message}`;
      submit.disabled = false;
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  holderId.focus();
}
