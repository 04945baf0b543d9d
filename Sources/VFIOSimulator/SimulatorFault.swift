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
}

/// Every injected fault, as kept in `<root>/.vfiod-simulator/faults.json`:
/// `{"unbindBusy": ["0000:01:00.0"], "probeLeavesDriverless": [], "unbindBlocks": []}`, every key optional.
public struct SimulatorFaults: Sendable, Hashable {
    /// Addresses whose unbind fails with `EBUSY`.
    public var unbindBusy: Set<PCIAddress> = []
    /// Addresses whose probe binds nothing.
    public var probeLeavesDriverless: Set<PCIAddress> = []
    /// Addresses whose unbind blocks until released.
    public var unbindBlocks: Set<PCIAddress> = []

    /// No faults.
    public init() {}

    /// Whether `fault` is set.
    public func contains(_ fault: SimulatorFault) -> Bool {
        switch fault {
        case .unbindBusy(let address): unbindBusy.contains(address)
        case .probeLeavesDriverless(let address): probeLeavesDriverless.contains(address)
        case .unbindBlocks(let address): unbindBlocks.contains(address)
        }
    }

    /// Sets or clears `fault`.
    public mutating func set(_ fault: SimulatorFault, _ on: Bool) {
        switch fault {
        case .unbindBusy(let address): Self.toggle(&unbindBusy, address, on)
        case .probeLeavesDriverless(let address): Self.toggle(&probeLeavesDriverless, address, on)
        case .unbindBlocks(let address): Self.toggle(&unbindBlocks, address, on)
        }
    }

    /// No fault at all.
    public var isEmpty: Bool { unbindBusy.isEmpty && probeLeavesDriverless.isEmpty && unbindBlocks.isEmpty }

    private static func toggle(_ set: inout Set<PCIAddress>, _ address: PCIAddress, _ on: Bool) {
        if on { set.insert(address) } else { set.remove(address) }
    }

    /// The JSON shape of the fault file; addresses as canonical strings.
    private struct FileForm: Codable {
        var unbindBusy: [String]?
        var probeLeavesDriverless: [String]?
        var unbindBlocks: [String]?
    }

    /// Parses the fault file's bytes; `nil` when they are not that JSON shape or hold a bad address.
    public static func decode(_ bytes: [UInt8]) -> SimulatorFaults? {
        guard let form = try? JSONDecoder().decode(FileForm.self, from: Data(bytes)) else { return nil }
        func addresses(_ texts: [String]?) -> Set<PCIAddress>? {
            let parsed = (texts ?? []).map { PCIAddress($0) }
            return parsed.contains(nil) ? nil : Set(parsed.compactMap { $0 })
        }
        guard let busy = addresses(form.unbindBusy), let driverless = addresses(form.probeLeavesDriverless),
              let blocks = addresses(form.unbindBlocks) else { return nil }
        var faults = SimulatorFaults()
        faults.unbindBusy = busy
        faults.probeLeavesDriverless = driverless
        faults.unbindBlocks = blocks
        return faults
    }

    /// The fault file's bytes: sorted keys, sorted addresses.
    public func encoded() -> [UInt8] {
        func texts(_ set: Set<PCIAddress>) -> [String] { set.sorted().map(\.description) }
        let form = FileForm(unbindBusy: texts(unbindBusy), probeLeavesDriverless: texts(probeLeavesDriverless),
                            unbindBlocks: texts(unbindBlocks))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return Array((try? encoder.encode(form)) ?? Data("{}".utf8)) + [0x0a]
    }
}
