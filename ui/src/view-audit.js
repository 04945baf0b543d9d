// Audit: filters, keyset paging, each row's before and after, the chain's verification as a badge, and
// exports (fetched with the token, then saved: a plain link could not carry it).
import {h, replace, heading, badge, time, field, coalesce} from './dom.js';
import {get, query, session, ApiError} from './api.js';

const FILTERS = [['device', 'Device'], ['group', 'Group'], ['assignment', 'Assignment'], ['holder', 'Holder'],
  ['tenant', 'Tenant'], ['action', 'Action'], ['since', 'Since (RFC 3339)'], ['until', 'Until (RFC 3339)']];

export async function render(main, _params, search) {
  const inputs = Object.fromEntries(FILTERS.map(([name]) => [name, h('input', {name, autocomplete: 'off', value: search?.get(name) || ''})]));
  const verify = h('div', {class: 'verify', 'aria-live': 'polite'});
  const rows = h('div', {});
  const pager = h('nav', {class: 'pager', 'aria-label': 'Audit pages'});
  const form = h('form', {class: 'filters', role: 'search', 'aria-label': 'Filter the audit history'},
    FILTERS.map(([name, label]) => field(label, inputs[name])), h('button', {type: 'submit'}, 'Apply'));
  const exports = h('p', {class: 'exports'}, 'Export what the filters select: ',
    exportLink('jsonl', inputs), ' ', exportLink('csv', inputs));
  replace(main, heading('Audit'), verify, form, exports, rows, pager);
  const pages = [null];
  const filters = () => Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value.trim()]));
  const load = async (index) => {
    const page = await get(`/v1/audit${query({...filters(), pageSize: 50, pageToken: pages[index]})}`);
    pages[index + 1] = page.nextPageToken;
    drawRows(rows, page.items);
    replace(pager,
      index > 0 ? h('button', {type: 'button', onclick: () => load(index - 1)}, '← Previous page') : null,
      h('span', {}, ` Page ${index + 1} `),
      page.nextPageToken ? h('button', {type: 'button', onclick: () => load(index + 1)}, 'Next page →') : null);
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); pages.length = 1; load(0); });
  await Promise.all([load(0), drawVerify(verify)]);
  const refresh = coalesce(() => drawVerify(verify));
  return {
    onEvent(event) {
      if (['tick', 'audit.appended', 'resync'].includes(event.type)) refresh();
    },
  };
}

async function drawVerify(el) {
  const v = await get('/v1/audit/verify');
  replace(el, h('span', {class: `badge ${v.ok ? 's-available' : 's-blocked'}`, id: 'verify-badge', dataset: {ok: String(v.ok)}},
    v.ok ? 'chain ok' : 'chain BROKEN'),
    v.ok ? ` ${v.count} rows, head ${String(v.headHash).slice(0, 16)}…`
      : ` first broken row ${v.firstBrokenSeq}: ${v.reason}`,
    v.ok ? h('span', {class: 'mono sr-only'}, ` full head hash ${v.headHash}`) : null);
}

function drawRows(el, items) {
  if (!items.length) { replace(el, h('p', {class: 'muted'}, 'No audit rows match.')); return; }
  replace(el, h('ol', {class: 'audit', 'aria-label': 'Audit rows'}, items.map((r) =>
    h('li', {}, h('details', {},
      h('summary', {}, h('span', {class: 'mono'}, `#${r.seq}`), ' ', time(r.time), ' ', h('strong', {}, r.action),
        ` by ${r.actor}`, r.device ? ` · ${r.device}` : '', r.group !== null ? ` · group ${r.group}` : '',
        r.error ? h('span', {class: 'form-error'}, ` · ${r.error}`) : ''),
      h('div', {class: 'change'}, changeTable(r)),
      h('p', {class: 'mono muted small'}, `hash ${r.hash}`))))));
}

function changeTable(r) {
  const keys = [...new Set([...Object.keys(r.before || {}), ...Object.keys(r.after || {})])].sort();
  const rows = keys.map((k) => {
    const before = r.before?.[k] ?? '—';
    const after = r.after?.[k] ?? '—';
    return h('tr', {class: before !== after ? 'changed' : ''}, h('th', {scope: 'row'}, k), h('td', {}, before), h('td', {}, after));
  });
  return h('table', {}, h('caption', {}, r.detail || 'Before and after'),
    h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Field'), h('th', {scope: 'col'}, 'Before'), h('th', {scope: 'col'}, 'After'))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', {colspan: '3'}, 'No fields recorded.'))));
}

function exportLink(format, inputs) {
  const a = h('a', {href: '#', role: 'button', download: `vfiod-audit.${format}`}, `Download ${format.toUpperCase()}`);
  a.addEventListener('click', async (event) => {
    if (a.dataset.ready) return;
    event.preventDefault();
    const filters = Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value.trim()]));
    const response = await fetch(`/v1/audit/export${query({...filters, format})}`, {headers: {Authorization: `Bearer ${session.token}`}});
    if (!response.ok) throw new ApiError(response.status, await response.json());
    a.href = URL.createObjectURL(await response.blob());
    a.dataset.ready = '1';
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.href = '#'; delete a.dataset.ready; }, 1000);
  });
  return a;
}
