// One device: ids, names, NUMA, SR-IOV, reset methods, vfio cdev, state, and its history (the audit
// rows about it, for roles that may read the audit).
import {h, replace, heading, badge, facts, table, time, deviceLink, coalesce} from './dom.js';
import {get, query, session} from './api.js';

export async function render(main, [address]) {
  const body = h('div', {});
  replace(main, heading(`Device ${address}`), body);
  let last = '';
  const draw = async () => {
    const d = await get(`/v1/devices/${encodeURIComponent(address)}`);
    const rows = await history(address);
    const signature = JSON.stringify(d) + rows.textContent;
    if (signature !== last) replace(body, ...view(d), rows);
    last = signature;
  };
  await draw();
  const refresh = coalesce(draw);
  return {
    onEvent(event) {
      const mine = event.type === 'tick' || event.type === 'resync' || (event.data && (event.data.address === address || (event.data.devices || []).includes?.(address)));
      if (mine && ['tick', 'resync', 'device.changed', 'audit.appended', 'assignment.changed'].includes(event.type)) refresh();
    },
  };
}

function view(d) {
  const name = [d.vendorName, d.deviceName].filter(Boolean).join(' ') || 'unknown device';
  return [
    h('p', {class: 'lead'}, name, ' ', badge(d.state), d.stateReason ? h('span', {class: 'muted'}, ` — ${d.stateReason}`) : null),
    h('section', {class: 'card', 'aria-labelledby': 'ids-h'}, h('h2', {id: 'ids-h'}, 'Identity'), facts([
      ['Vendor:device', h('span', {class: 'mono'}, `${d.vendorId}:${d.deviceId}`)],
      ['Subsystem', h('span', {class: 'mono'}, `${d.subsystemVendorId}:${d.subsystemDeviceId}`)],
      ['Revision', d.revision], ['Class', `${d.className || ''} (${d.classCode})`], ['Serial number', d.serialNumber],
      ['Driver', d.driver || 'none'], ['Driver override', d.driverOverride], ['IOMMU group', d.iommuGroup === null ? 'none'
        : h('a', {href: '#/groups'}, String(d.iommuGroup))],
      ['NUMA node', d.numaNode === null || d.numaNode === undefined ? '—' : String(d.numaNode)],
      ['Boot VGA', d.bootVga ? 'yes' : 'no'], ['Bridge', d.isBridge ? 'yes' : 'no'],
      ['Assignment', d.assignmentId ? h('a', {href: '#/assignments', class: 'mono'}, d.assignmentId) : '—'],
    ])),
    h('section', {class: 'card', 'aria-labelledby': 'vf-h'}, h('h2', {id: 'vf-h'}, 'SR-IOV, reset and VFIO'), facts([
      ['Virtual functions', d.totalVfs ? `${d.numVfs ?? 0} of ${d.totalVfs} enabled` : 'none'],
      ['Physical function', d.physfn ? deviceLink(d.physfn) : '—'],
      ['VFs', d.virtfns?.length ? d.virtfns.flatMap((v, i) => [i ? ', ' : '', deviceLink(v)]) : '—'],
      ['Reset methods', d.resetMethods?.length ? d.resetMethods.join(', ') : 'none'],
      ['VFIO cdev', d.vfioCdev ? h('span', {class: 'mono'}, d.vfioCdev) : '—'],
      ['VFIO group file', d.vfioGroupPresent ? 'present' : 'absent'],
    ]), h('p', {}, h('a', {href: `#/reset/${encodeURIComponent(d.address)}`}, 'Reset scope preview'))),
    d.notes?.length ? h('section', {class: 'card'}, h('h2', {}, 'Notes'), h('ul', {}, d.notes.map((n) => h('li', {}, String(n))))) : null,
  ];
}

async function history(address) {
  if (!session.can('audit')) {
    return h('section', {class: 'card'}, h('h2', {}, 'History'), h('p', {class: 'muted'}, 'The audit history needs an auditor or admin token.'));
  }
  const page = await get(`/v1/audit${query({device: address, pageSize: 50, order: undefined})}`);
  return h('section', {class: 'card', 'aria-labelledby': 'hist-h'}, h('h2', {id: 'hist-h'}, 'History'),
    page.items.length ? h('div', {class: 'scroll'}, table(`Audit rows about ${address} (first 50)`, ['Seq', 'Time', 'Action', 'Actor', 'Assignment', 'Error'],
      page.items.map((r) => h('tr', {}, h('td', {}, String(r.seq)), h('td', {}, time(r.time)), h('td', {}, r.action),
        h('td', {}, r.actor), h('td', {class: 'mono'}, r.assignment || '—'), h('td', {}, r.error || ''))))) : h('p', {class: 'muted'}, 'Nothing recorded.'),
    h('p', {}, h('a', {href: `#/audit?device=${encodeURIComponent(address)}`}, 'All of it in the audit view')));
}
