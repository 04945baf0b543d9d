public import VFIOCore

/// What keeps a host from lending anything, and what to do about it: notes the snapshot carries beside the
/// tree's own (`/v1/host`'s `notes`), so an operator who sees nothing `available` learns why.
public enum HostAdvice {
    /// The notes for `host` with `allowlist`, most fundamental first; empty when nothing stands in the way.
    public static func notes(for host: HostFacts, allowlist: Allowlist) -> [String] {
        var notes: [String] = []
        if !host.iommuPresent {
            notes.append("no IOMMU: no device can be lent; enable VT-d (Intel) or AMD-Vi in the firmware, and on Intel "
                         + "boot with intel_iommu=on (iommu=pt keeps host devices fast)")
        }
        if !host.vfioPCILoaded {
            notes.append("vfio-pci is not loaded: run `modprobe vfio-pci` (and list it in /etc/modules-load.d/ to load it at boot)")
        }
        if allowlist.specs.isEmpty {
            notes.append("no device is allowed: vfiod lends only what --allow (or `allow` in the config file) names")
        }
        return notes
    }
}
