import Foundation

/// Whether the host's IOMMU remaps interrupts, as Linux shows it, and whether VFIO was told to lend
/// without it. Without interrupt remapping a device can write an MSI that lands as any interrupt on the
/// host: VFIO's type1 IOMMU (and iommufd) refuse to attach a group then, unless the module parameter
/// `allow_unsafe_interrupts` is set, which gives up that protection.
public struct InterruptRemapping: Sendable, Hashable {
    /// What the host shows.
    public enum State: Sendable, Hashable {
        /// Interrupts are remapped (`/proc/interrupts` lists `IR-` chips).
        case on
        /// Interrupts are not remapped; the text says what shows it.
        case off(String)
        /// Nothing tells (no Intel IOMMU units, no `/proc/interrupts` with MSI chips).
        case unknown
    }

    /// Whether interrupts are remapped.
    public var state: State
    /// `allow_unsafe_interrupts` is on for `vfio_iommu_type1` or `iommufd`: the parameter's owner, or nil.
    public var unsafeInterruptsAllowedBy: String?

    /// Creates facts; the default is a host that shows nothing.
    public init(state: State = .unknown, unsafeInterruptsAllowedBy: String? = nil) {
        self.state = state
        self.unsafeInterruptsAllowedBy = unsafeInterruptsAllowedBy
    }

    /// The Intel VT-d extended capability register's IR bit (Interrupt Remapping support, bit 3).
    static let intelIRBit: UInt64 = 1 << 3

    /// Reads what the tree beneath `paths` shows: each Intel IOMMU unit's extended capability register
    /// (`sys/class/iommu/dmarN/intel-iommu/ecap`, hex), the interrupt chips in `proc/interrupts`
    /// (`IR-PCI-MSI…` when remapped, `PCI-MSI…` when not), and the `allow_unsafe_interrupts` parameters of
    /// `sys/module/vfio_iommu_type1` and `sys/module/iommufd`. Blocking file reads.
    public static func read(_ paths: HostPaths) -> InterruptRemapping {
        var facts = InterruptRemapping()
        for module in ["vfio_iommu_type1", "iommufd"] {
            let value = (try? SysfsFiles.readString(paths.sys("module/\(module)/parameters/allow_unsafe_interrupts"))) ?? ""
            if facts.unsafeInterruptsAllowedBy == nil, value == "Y" || value == "1" { facts.unsafeInterruptsAllowedBy = module }
        }
        if let unit = intelUnitWithoutIR(paths) {
            facts.state = .off("the Intel IOMMU \(unit) cannot remap interrupts (its ecap has no IR bit)")
            return facts
        }
        facts.state = chipsState(paths)
        return facts
    }

    /// The first Intel IOMMU unit whose `ecap` lacks the IR bit, when every unit lacks it; nil otherwise.
    private static func intelUnitWithoutIR(_ paths: HostPaths) -> String? {
        let units = ((try? SysfsFiles.listDirectory(paths.sys("class/iommu"))) ?? []).sorted()
        var lacking: [String] = []
        var read = 0
        for unit in units {
            guard let text = try? SysfsFiles.readString(paths.sys("class/iommu/\(unit)/intel-iommu/ecap")),
                  let ecap = UInt64(text, radix: 16) else { continue }
            read += 1
            if ecap & intelIRBit == 0 { lacking.append(unit) }
        }
        return read > 0 && lacking.count == read ? lacking.first : nil
    }

    /// What `proc/interrupts` says: MSI chips named `IR-…` are remapped; MSI chips and none remapped, not.
    private static func chipsState(_ paths: HostPaths) -> State {
        guard let handle = FileHandle(forReadingAtPath: paths.proc("interrupts")) else { return .unknown }
        defer { try? handle.close() }
        var sawMSI = false
        // A host with many CPUs has a long file: read it in pieces, up to 8 MiB, and stop at the first `IR-`.
        var carry = ""
        for _ in 0..<128 {
            guard let data = try? handle.read(upToCount: 65_536), !data.isEmpty else { break }
            let text = carry + String(decoding: data, as: UTF8.self)
            if text.contains(" IR-") { return .on }
            if text.contains("PCI-MSI") { sawMSI = true }
            carry = String(text.suffix(16))
        }
        return sawMSI ? .off("/proc/interrupts lists MSI interrupts and none remapped (no IR- chip)") : .unknown
    }
}
