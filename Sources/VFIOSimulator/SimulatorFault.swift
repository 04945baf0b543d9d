public import VFIOCore
import Foundation

/// A misbehaviour the simulated kernel can be told to show for one device (see
/// ``SimulatedKernel/injectFault(_:)`` and the fault file in `examples/topologies/README.md`).
public enum SimulatorFault: Hashable, Sendable {
    /// `unbind` fails with `EBUSY` (after the `ENODEV` check: the device must be bound to that driver).
    case unbindBusy(PCIAddress)
    /// `drivers_probe` binds nothing, whatever the override or native driver.
    case probeLeavesDriverless(PCIAddress)
    /// `unbind` blocks the calling thread (as when a process holds the device) until the fault is removed,
    /// by ``SimulatedKernel/releaseBlockedUnbinds()`` or by editing the fault file; then it unbinds.
    case unbindBlocks(PCIAddress)
    /// `VFIO_DEVICE_RESET` of the function fails with `EIO`.
    case resetFails(PCIAddress)
    /// `VFIO_DEVICE_PCI_HOT_RESET` fails with `ENOTTY` when this function is in the scope (as the lab's
    /// nvme behind a fast root port does: the link does not come back in time).
    case hotResetFails(PCIAddress)
    /// After a successful reset that touches the function, its `config` reads as `0xffff` (the device no
    /// longer answers) until this fault is cleared.
    case deadAfterReset(PCIAddress)
}

extension SimulatorFault {
    /// The fault names, as the fault file's keys.
    public static let names = ["unbindBusy", "probeLeavesDriverless", "unbindBlocks", "resetFails", "hotResetFails", "deadAfterReset"]

    /// The fault called `name` (a fault file key) for `address`; `nil` for an unknown name.
    public init?(name: String, address: PCIAddress) {
        switch name {
        case "unbindBusy": self = .unbindBusy(address)
        case "probeLeavesDriverless": self = .probeLeavesDriverless(address)
        case "unbindBlocks": self = .unbindBlocks(address)
        case "resetFails": self = .resetFails(address)
        case "hotResetFails": self = .hotResetFails(address)
        case "deadAfterReset": self = .deadAfterReset(address)
        default: return nil
        }
    }
}

/// Every injected fault, as kept in `<root>/.vfiod-simulator/faults.json`:
/// `{"unbindBusy": ["0000:01:00.0"], "probeLeavesDriverless": [], "unbindBlocks": [], "resetFails": [],
/// "hotResetFails": [], "deadAfterReset": []}`, every key optional.
public struct SimulatorFaults: Sendable, Hashable {
    /// Addresses whose unbind fails with `EBUSY`.
    public var unbindBusy: Set<PCIAddress> = []
    /// Addresses whose probe binds nothing.
    public var probeLeavesDriverless: Set<PCIAddress> = []
    /// Addresses whose unbind blocks until released.
    public var unbindBlocks: Set<PCIAddress> = []
    /// Addresses whose function reset fails with `EIO`.
    public var resetFails: Set<PCIAddress> = []
    /// Addresses whose presence in a hot reset's scope makes it fail with `ENOTTY`.
    public var hotResetFails: Set<PCIAddress> = []
    /// Addresses that stop answering (vendor id `0xffff`) after a reset.
    public var deadAfterReset: Set<PCIAddress> = []

    /// No faults.
    public init() {}

    /// Whether `fault` is set.
    public func contains(_ fault: SimulatorFault) -> Bool {
        switch fault {
        case .unbindBusy(let address): unbindBusy.contains(address)
        case .probeLeavesDriverless(let address): probeLeavesDriverless.contains(address)
        case .unbindBlocks(let address): unbindBlocks.contains(address)
        case .resetFails(let address): resetFails.contains(address)
        case .hotResetFails(let address): hotResetFails.contains(address)
        case .deadAfterReset(let address): deadAfterReset.contains(address)
        }
    }

    /// Sets or clears `fault`.
    public mutating func set(_ fault: SimulatorFault, _ on: Bool) {
        switch fault {
        case .unbindBusy(let address): Self.toggle(&unbindBusy, address, on)
        case .probeLeavesDriverless(let address): Self.toggle(&probeLeavesDriverless, address, on)
        case .unbindBlocks(let address): Self.toggle(&unbindBlocks, address, on)
        case .resetFails(let address): Self.toggle(&resetFails, address, on)
        case .hotResetFails(let address): Self.toggle(&hotResetFails, address, on)
        case .deadAfterReset(let address): Self.toggle(&deadAfterReset, address, on)
        }
    }

    /// No fault at all.
    public var isEmpty: Bool {
        unbindBusy.isEmpty && probeLeavesDriverless.isEmpty && unbindBlocks.isEmpty && resetFails.isEmpty
            && hotResetFails.isEmpty && deadAfterReset.isEmpty
    }

    private static func toggle(_ set: inout Set<PCIAddress>, _ address: PCIAddress, _ on: Bool) {
        if on { set.insert(address) } else { set.remove(address) }
    }

    /// The JSON shape of the fault file; addresses as canonical strings.
    private struct FileForm: Codable {
        var unbindBusy: [String]?
        var probeLeavesDriverless: [String]?
        var unbindBlocks: [String]?
        var resetFails: [String]?
        var hotResetFails: [String]?
        var deadAfterReset: [String]?
    }

    /// Parses the fault file's bytes; `nil` when they are not that JSON shape or hold a bad address.
    public static func decode(_ bytes: [UInt8]) -> SimulatorFaults? {
        guard let form = try? JSONDecoder().decode(FileForm.self, from: Data(bytes)) else { return nil }
        func addresses(_ texts: [String]?) -> Set<PCIAddress>? {
            let parsed = (texts ?? []).map { PCIAddress($0) }
            return parsed.contains(nil) ? nil : Set(parsed.compactMap { $0 })
        }
        guard let busy = addresses(form.unbindBusy), let driverless = addresses(form.probeLeavesDriverless),
              let blocks = addresses(form.unbindBlocks), let resetFails = addresses(form.resetFails),
              let hotResetFails = addresses(form.hotResetFails), let dead = addresses(form.deadAfterReset) else { return nil }
        var faults = SimulatorFaults()
        faults.unbindBusy = busy
        faults.probeLeavesDriverless = driverless
        faults.unbindBlocks = blocks
        faults.resetFails = resetFails
        faults.hotResetFails = hotResetFails
        faults.deadAfterReset = dead
        return faults
    }

    /// The fault file's bytes: sorted keys, sorted addresses.
    public func encoded() -> [UInt8] {
        func texts(_ set: Set<PCIAddress>) -> [String] { set.sorted().map(\.description) }
        let form = FileForm(unbindBusy: texts(unbindBusy), probeLeavesDriverless: texts(probeLeavesDriverless),
                            unbindBlocks: texts(unbindBlocks), resetFails: texts(resetFails),
                            hotResetFails: texts(hotResetFails), deadAfterReset: texts(deadAfterReset))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return Array((try? encoder.encode(form)) ?? Data("{}".utf8)) + [0x0a]
    }
}
