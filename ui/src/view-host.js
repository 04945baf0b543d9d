// Host: kernel, IOMMU, cdev/iommufd, vfio-pci, the devices by state as a bar, the scan, and the notes.
import {h, replace, heading, facts, time, duration, badge, coalesce} from './dom.js';
import {get} from './api.js';

const ORDER = ['available', 'binding', 'assigned', 'releasing', 'quarantined', 'protected', 'host'];

export async function render(main) {
  const body = h('div', {});
  replace(main, heading('Host'), body);
  let last = '';
  const draw = async () => {
    const host = await get('/v1/host');
    const signature = JSON.stringify(host);
    if (signature !== last) replace(body, ...view(host));
    last = signature;
  };
  await draw();
  const refresh = coalesce(draw);
  return {
    onEvent(event) {
      if (['tick', 'inventory.rescanned', 'device.changed', 'reset', 'resync'].includes(event.type)) refresh();
    },
  };
}

function yes(flag) { return flag ? 'yes' : 'no'; }

function view(host) {
  const byState = host.counts?.byState || {};
  const total = Object.values(byState).reduce((a, b) => a + b, 0) || 1;
  const bar = h('div', {class: 'statebar', role: 'img',
    'aria-label': ORDER.filter((s) => byState[s]).map((s) => `${byState[s]} ${s}`).join(', ') || 'no devices'});
  for (const state of ORDER) {
    if (!byState[state]) continue;
    const part = h('span', {class: `s-${state}`, title: `${state}: ${byState[state]}`});
    part.style.flexGrow = String(byState[state] / total);
    bar.append(part);
  }
  const legend = h('ul', {class: 'legend'}, ORDER.filter((s) => byState[s] !== undefined)
    .map((s) => h('li', {}, badge(s), ` ${byState[s]}`)));
  const notes = host.notes?.length
    ? h('section', {class: 'card notes', 'aria-labelledby': 'notes-h'}, h('h2', {id: 'notes-h'}, 'Notes'),
        h('ul', {}, host.notes.map((n) => h('li', {}, typeof n === 'string' ? n : JSON.stringify(n)))))
    : h('p', {class: 'muted'}, 'No notes: this host can lend devices.');
  return [
    h('section', {class: 'card', 'aria-labelledby': 'kernel-h'}, h('h2', {id: 'kernel-h'}, 'Kernel'), facts([
      ['Backend', host.backend], ['Kernel release', host.kernelRelease], ['Boot id', h('span', {class: 'mono'}, host.bootId ?? '—')],
      ['IOMMU', yes(host.iommuPresent)], ['vfio-pci loaded', yes(host.vfioPciLoaded)],
      ['VFIO container (/dev/vfio/vfio)', yes(host.vfioContainerPresent)],
      ['Device cdev (/dev/vfio/devices)', yes(host.cdevSupported)], ['iommufd (/dev/iommu)', yes(host.iommufdPresent)],
    ])),
    h('section', {class: 'card', 'aria-labelledby': 'counts-h'}, h('h2', {id: 'counts-h'}, 'Devices by state'),
      h('p', {}, `${host.counts?.devices ?? 0} PCI functions in ${host.counts?.groups ?? 0} IOMMU groups`), bar, legend),
    h('section', {class: 'card', 'aria-labelledby': 'scan-h'}, h('h2', {id: 'scan-h'}, 'Inventory scan'), facts([
      ['Snapshot generation', host.inventory?.generation], ['Taken at', time(host.inventory?.takenAt)],
      ['Scan took', duration(host.inventory?.scanDurationMs)],
    ])),
    notes,
  ];
}
