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
        if host.iommuPresent, let note = interruptRemappingNote(host.interruptRemapping) {
            notes.append(note)
        }
        if !host.vfioPCILoaded {
            notes.append("vfio-pci is not loaded: run `modprobe vfio-pci` (and list it in /etc/modules-load.d/ to load it at boot)")
        }
        if allowlist.specs.isEmpty {
            notes.append("no device is allowed: vfiod lends only what --allow (or `allow` in the config file) names")
        }
        return notes
    }

    /// Interrupt remapping off: what shows it, what VFIO does about it, and what to do.
    private static func interruptRemappingNote(_ remapping: InterruptRemapping) -> String? {
        guard case .off(let evidence) = remapping.state else { return nil }
        if let module = remapping.unsafeInterruptsAllowedBy {
            return "interrupt remapping is off (\(evidence)) and \(module) allow_unsafe_interrupts is on: a leased device "
                + "can raise any interrupt on the host; enable interrupt remapping (VT-d/AMD-Vi in the firmware, no "
                + "intremap=off on the kernel command line) and turn allow_unsafe_interrupts off"
        }
        return "interrupt remapping is off (\(evidence)): VFIO refuses to lend devices without it; enable it in the firmware "
            + "(VT-d/AMD-Vi, interrupt remapping) and do not boot with intremap=off (vfio_iommu_type1 "
            + "allow_unsafe_interrupts=1 would lend anyway, without protecting the host from a device's interrupts)"
    }
}
