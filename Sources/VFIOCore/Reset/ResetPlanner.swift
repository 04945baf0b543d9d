/// Computes ``ResetPlan``s from a ``HostScan`` by the kernel's rules.
///
/// - `reset_method` lists the methods that probed OK for the function *when it was enumerated* (flr,
///   af_flr, pm, device_specific, acpi, and bus / cxl_bus). Any but the bus ones makes `VFIO_DEVICE_RESET`
///   work: ``ResetMethod/function``, scope the target alone. The bus methods are probed again when vfio-pci
///   opens the device and work only while the function is alone below its bridge: the QEMU lab showed an
///   e1000 listing `bus` (it was alone when probed) beside an edu on the same bus, and `VFIO_DEVICE_RESET`
///   failing with EINVAL. A missing file (older kernels, snapshots without it) counts as no function reset.
/// - `VFIO_DEVICE_PCI_HOT_RESET` is the kernel's `pci_reset_bus` (slot or bus) below the target's parent
///   bridge: ``ResetMethod/hot`` is possible whenever that parent is a bridge (a `pciDDDD:BB` root bus
///   cannot be reset), and its scope is every function below the bridge's directory, subordinate buses
///   included and the bridge itself excluded.
///
/// Pure: reads nothing but the scan.
public enum ResetPlanner {
    /// The plan for resetting `target` by `method`, or by the method vfiod prefers when `method` is nil
    /// (function reset if available, else hot reset, else none).
    public static func plan(_ target: PCIAddress, method: ResetMethod?, in scan: HostScan) -> ResetPlan {
        guard let facts = scan.devices.first(where: { $0.address == target }) else {
            return unavailable(target, "\(target) is not in the scan")
        }
        let function = functionResetProblem(facts, in: scan)
        let hotScope = self.hotScope(of: facts, in: scan)
        switch method {
        case .function:
            guard let problem = function else { return available(target, .function, [target]) }
            return unavailable(target, "no function reset: \(problem)")
        case .hot:
            guard let scope = hotScope else {
                return unavailable(target, "no hot reset: the function sits on a root bus")
            }
            return available(target, .hot, scope)
        case nil:
            guard let function else { return available(target, .function, [target]) }
            if let scope = hotScope { return available(target, .hot, scope) }
            return unavailable(target, "no reset method: \(function) and the function sits on a root bus")
        }
    }

    /// Why `VFIO_DEVICE_RESET` would fail, in words; `nil` when it would work.
    static func functionResetProblem(_ facts: PCIDeviceFacts, in scan: HostScan) -> String? {
        guard let methods = facts.resetMethods else { return "reset_method is missing" }
        if methods.isEmpty { return "reset_method is empty" }
        if methods.allSatisfy({ $0 == "bus" || $0 == "cxl_bus" }), let bridge = parentDirectory(facts.sysfsPath) {
            let siblings = scan.devices.filter { $0.address != facts.address && $0.sysfsPath.hasPrefix(bridge + "/") }
            if !siblings.isEmpty {
                return "reset_method offers only a bus reset, and the function is not alone below its bridge ("
                    + siblings.map(\.address.description).sorted().joined(separator: ", ") + ")"
            }
        }
        return nil
    }

    /// Every function below the target's parent bridge, sorted; `nil` when the parent is a root bus.
    static func hotScope(of facts: PCIDeviceFacts, in scan: HostScan) -> [PCIAddress]? {
        guard let bridge = parentDirectory(facts.sysfsPath) else { return nil }
        let prefix = bridge + "/"
        let scope = scan.devices.filter { $0.sysfsPath.hasPrefix(prefix) }.map(\.address)
        return Array(Set(scope + [facts.address])).sorted()
    }

    /// The directory above `path` when its last component is a PCI function (a bridge); `nil` for a root
    /// bus (`pci0000:00`) or a path too short to have a parent.
    static func parentDirectory(_ path: String) -> String? {
        var components = path.split(separator: "/", omittingEmptySubsequences: true)
        guard components.count >= 2 else { return nil }
        components.removeLast()
        guard let last = components.last, PCIAddress(String(last)) != nil else { return nil }
        return (path.hasPrefix("/") ? "/" : "") + components.joined(separator: "/")
    }

    private static func available(_ target: PCIAddress, _ method: ResetMethod, _ scope: [PCIAddress]) -> ResetPlan {
        ResetPlan(target: target, method: method, scope: scope, unavailableReason: nil)
    }

    private static func unavailable(_ target: PCIAddress, _ reason: String) -> ResetPlan {
        ResetPlan(target: target, method: nil, scope: [], unavailableReason: reason)
    }
}
