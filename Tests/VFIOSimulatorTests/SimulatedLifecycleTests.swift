import Foundation
import Synchronization
import Testing
import VFIOCore
import VFIOSimulator

/// In-place persistence across instances, concurrent binds, and reboots.
struct SimulatedLifecycleTests {
    let gpu = pci("0000:01:00.0")
    let nic = pci("0000:03:00.0")

    @Test func inPlaceStateSurvivesTheInstance() throws {
        let directory = try ScratchDirectory()
        var host = SimulatedBindTests.lab()
        host.devices.append(device("0000:06:00.0", 0x030000, driver: "vfio-pci", group: 30))
        try SysfsTreeBuilder(root: directory.path).build(host)
        #expect(!SysfsFiles.exists(directory.path + "/.vfiod-simulator"))

        let first = try SimulatedKernel(source: directory.path, inPlace: true)
        #expect(first.paths.root == directory.path && !first.ownsTree)
        #expect(SysfsFiles.exists(directory.path + "/.vfiod-simulator/state.json"))
        #expect(first.nativeDriver(of: gpu) == "nvidia")
        #expect(first.nativeDriver(of: pci("0000:06:00.0")) == nil, "a device found on vfio-pci has no native driver")
        try bindToVFIO(first, gpu)
        try first.setDriverOverride(nic, to: "vfio-pci")
        try first.unbind(nic, from: "e1000e")
        #expect(first.vfioCdev(of: gpu) == "vfio1", "vfio0 was taken by the device found on vfio-pci")
        first.close()
        #expect(SysfsFiles.isDirectory(directory.path + "/sys"), "close keeps an in-place tree")

        // A restarted process sees the kernel state the last one left, mid-bind included.
        let second = try SimulatedKernel(source: directory.path, inPlace: true)
        let scan = try second.scan()
        #expect(scan.devices.first { $0.address == gpu }?.driver == "vfio-pci")
        #expect(scan.devices.first { $0.address == nic }?.driver == nil)
        #expect(scan.devices.first { $0.address == nic }?.driverOverride == "vfio-pci")
        #expect(second.nativeDriver(of: gpu) == "nvidia" && second.nativeDriver(of: nic) == "e1000e")
        try second.probe(nic)
        #expect(second.vfioCdev(of: nic) == "vfio2", "cdev numbers keep counting across instances")
        try restore(second, gpu)
        try restore(second, nic)
        #expect(second.driver(of: gpu) == "nvidia" && second.driver(of: nic) == "e1000e")
        #expect(try second.scan().host.vfioGroupNodes == [30])
    }

    @Test func cdevNumbersAreSavedWithoutRewritingTheStateFile() throws {
        let directory = try ScratchDirectory()
        try SysfsTreeBuilder(root: directory.path).build(SimulatedBindTests.lab())
        let kernel = try SimulatedKernel(source: directory.path, inPlace: true)
        let stateFile = directory.path + "/.vfiod-simulator/state.json"
        let inode = { try FileManager.default.attributesOfItem(atPath: stateFile)[.systemFileNumber] as? Int }
        let before = try inode()
        try bindToVFIO(kernel, gpu)
        try restore(kernel, gpu)
        try bindToVFIO(kernel, gpu)
        #expect(kernel.vfioCdev(of: gpu) == "vfio1")
        #expect(try inode() == before, "state.json is rewritten (renamed over) only when a native driver changes")
        let saved = try SysfsFiles.readBytes(directory.path + "/.vfiod-simulator/next-cdev", limit: 64)
        #expect(String(decoding: saved, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "2")
        kernel.close()
    }

    @Test func bindsAndUnbindsSendTheirUeventsWithTheDevicesPath() throws {
        let kernel = try SimulatedKernel(host: SimulatorCPUTests.host())
        defer { kernel.close() }
        let seen = Mutex<[UeventMessage]>([])
        let stop = kernel.watchUevents { message in if let message { seen.withLock { $0.append(message) } } }
        defer { stop?() }
        let address = pci("0000:05:00.0")
        try bindToVFIO(kernel, address)
        try restore(kernel, address)
        let events = seen.withLock { $0 }
        #expect(events.map(\.action) == ["unbind", "bind", "unbind", "bind"])
        #expect(events.map(\.driver) == ["e1000e", "vfio-pci", "vfio-pci", "e1000e"])
        // DEVPATH is relative to /sys, as the kernel sends it.
        let devicePath = "/" + (try scanned(kernel, address)).sysfsPath.dropFirst(kernel.paths.sys("").count)
        #expect(devicePath.hasPrefix("/devices/") && events.allSatisfy { $0.devicePath == devicePath && $0.address == address })
    }

    @Test func concurrentBindsOnDifferentGroups() throws {
        var host = HostSpec(devices: [])
        let addresses = (0..<8).map { PCIAddress(domain: 0, bus: UInt8(0x10 + $0), slot: 0, function: 0)! }
        for (index, address) in addresses.enumerated() {
            host.devices.append(device(address.description, 0x030000, driver: "nvidia", group: 40 + index))
        }
        let kernel = try SimulatedKernel(host: host)
        defer { kernel.close() }

        var calls = addresses.map { address in BackgroundCall { () throws(KernelError) in try bindToVFIO(kernel, address) } }
        #expect(calls.map { $0.wait() }.allSatisfy { $0 == nil })
        var scan = try kernel.scan()
        #expect(scan.devices.allSatisfy { $0.driver == "vfio-pci" })
        #expect(Set(scan.devices.compactMap(\.vfioCdev)).count == 8, "every device got its own cdev number")
        #expect(scan.host.vfioGroupNodes == Set(40..<48))

        calls = addresses.map { address in BackgroundCall { () throws(KernelError) in try restore(kernel, address) } }
        #expect(calls.map { $0.wait() }.allSatisfy { $0 == nil })
        scan = try kernel.scan()
        #expect(scan.devices.allSatisfy { $0.driver == "nvidia" && $0.driverOverride == nil && $0.vfioCdev == nil })
        #expect(scan.host.vfioGroupNodes.isEmpty)
    }

    @Test func rebootResetsBindingsAndOverrides() throws {
        let kernel = try SimulatedKernel(host: SimulatedBindTests.lab())
        defer { kernel.close() }
        let spare = pci("0000:03:00.1")
        try bindToVFIO(kernel, gpu)
        try bindToVFIO(kernel, spare)
        try kernel.setDriverOverride(nic, to: "vfio-pci")
        try kernel.injectFault(.unbindBusy(nic))
        #expect(kernel.bootID() == "boot-1")

        try kernel.simulateReboot(newBootID: "boot-2")
        let scan = try kernel.scan()
        #expect(kernel.bootID() == "boot-2" && scan.host.bootID == "boot-2")
        #expect(scan.devices.allSatisfy { $0.driverOverride == nil && $0.vfioCdev == nil })
        #expect(scan.devices.first { $0.address == gpu }?.driver == "nvidia")
        #expect(scan.devices.first { $0.address == nic }?.driver == "e1000e")
        #expect(scan.devices.first { $0.address == spare }?.driver == nil)
        #expect(scan.host.vfioGroupNodes.isEmpty)
        #expect(try SysfsFiles.listDirectory(kernel.paths.dev("vfio/devices")).isEmpty)
        #expect(kernel.faults().isEmpty)

        try bindToVFIO(kernel, gpu)
        #expect(kernel.vfioCdev(of: gpu) == "vfio0", "cdev numbering restarts with the boot")
    }
}
