import ServiceLog
import Inventory
import Store
import VFIOCore
import Foundation

/// Records every snapshot's device identities in the store, so drift (a different device at a known
/// address) has history to be compared with.
enum IdentityRecorder {
    /// Records the snapshot; returns what went wrong, or `nil`.
    static func record(_ snapshot: InventorySnapshot, into store: DeviceIdentityStore) -> String? {
        let identities = snapshot.devices.map { device in
            DeviceIdentity(address: device.address.description, vendorID: device.facts.vendorID,
                           deviceID: device.facts.deviceID, subsystemVendorID: device.facts.subsystemVendorID,
                           subsystemDeviceID: device.facts.subsystemDeviceID, serialNumber: device.facts.serialNumber)
        }
        do {
            let result = try store.record(identities, at: snapshot.takenAt)
            for change in result.changed {
                Log.warning("device identity changed at \(change.address): \(change.previous.identity) → \(change.current)")
            }
            return nil
        } catch {
            Log.warning("cannot record device identities: \(error)")
            return "\(error)"
        }
    }
}

/// pci.ids as the inventory's name lookup; absent or unreadable → ids only.
enum PCINames {
    static func load(path: String) -> any PCINameLookup {
        guard let database = try? PCIIDDatabase(path: path) else {
            Log.warning("no pci.ids at \(path): devices are shown with ids only")
            return NoPCINames()
        }
        return database
    }
}

extension PCIIDDatabase: PCINameLookup {}
