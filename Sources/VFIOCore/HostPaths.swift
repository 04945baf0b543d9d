/// Where the host's `sys/`, `dev/` and `proc/` trees are: beneath one configurable root.
///
/// Production uses `/`; tests and the simulator point it at a tree laid out as the kernel lays it out.
/// Nothing else in vfiod spells `/sys`.
public struct HostPaths: Sendable, Hashable {
    /// The host root, without a trailing slash (empty for `/`).
    public let root: String

    /// Creates paths beneath `root` (`/` for the real host).
    public init(root: String = "/") {
        var trimmed = root
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.root = trimmed
    }

    /// `<root>/sys/<relative>`.
    public func sys(_ relative: String) -> String { root + "/sys/" + relative }
    /// `<root>/dev/<relative>`.
    public func dev(_ relative: String) -> String { root + "/dev/" + relative }
    /// `<root>/proc/<relative>`.
    public func proc(_ relative: String) -> String { root + "/proc/" + relative }

    /// The sysfs directory of one PCI function (`sys/bus/pci/devices/<address>`).
    public func pciDevice(_ address: PCIAddress) -> String { sys("bus/pci/devices/\(address)") }
}
