import Foundation
import Testing
import VFIOCore
import VFIOSimulator

/// The kernel's refusals, with the errno and path the real write would give.
struct SimulatedKernelRuleTests {
    let kernel: SimulatedKernel
    let gpu = pci("0000:01:00.0")
    let spare = pci("0000:03:00.1")
    let unknown = pci("0000:99:00.0")

    init() throws {
        var host = SimulatedBindTests.lab()
        host.devices.append(device("0000:00:1d.0", 0x060400, group: 20))
        host.devices.append(device("0000:00:1e.0", 0x020000))
        kernel = try SimulatedKernel(host: host)
    }

    func error(_ relative: String, _ code: Int32) -> KernelError {
        KernelError(call: "write", path: kernel.paths.sys(relative), errno: code)
    }

    @Test func unbindRefusals() throws {
        defer { kernel.close() }
        #expect(throws: error("bus/pci/drivers/vfio-pci/unbind", ENODEV)) { try kernel.unbind(gpu, from: "vfio-pci") }
        #expect(throws: error("bus/pci/drivers/vfio-pci/unbind", ENODEV)) { try kernel.unbind(unknown, from: "vfio-pci") }
        #expect(throws: error("bus/pci/drivers/nouveau/unbind", ENOENT)) { try kernel.unbind(gpu, from: "nouveau") }
        #expect(throws: error("bus/pci/drivers/../x/unbind", EINVAL)) { try kernel.unbind(gpu, from: "../x") }
        #expect(kernel.driver(of: gpu) == "nvidia")
    }

    @Test func bindRefusals() throws {
        defer { kernel.close() }
        #expect(throws: error("bus/pci/drivers/vfio-pci/bind", EBUSY)) { try kernel.bind(gpu, to: "vfio-pci") }
        #expect(throws: error("bus/pci/drivers/vfio-pci/bind", ENODEV)) { try kernel.bind(unknown, to: "vfio-pci") }
        #expect(throws: error("bus/pci/drivers/vfio-pci/bind", ENODEV), "vfio-pci refuses a bridge") {
            try kernel.bind(pci("0000:00:1d.0"), to: "vfio-pci")
        }
        #expect(throws: error("bus/pci/drivers/vfio-pci/bind", ENODEV), "vfio-pci refuses a device without a group") {
            try kernel.bind(pci("0000:00:1e.0"), to: "vfio-pci")
        }
        try kernel.setDriverOverride(spare, to: "pci-stub")
        #expect(throws: error("bus/pci/drivers/vfio-pci/bind", ENODEV), "an override naming another driver") {
            try kernel.bind(spare, to: "vfio-pci")
        }
        #expect(kernel.driver(of: spare) == nil)
    }

    @Test func bindWithoutOverrideAndNativeDriverMemory() throws {
        defer { kernel.close() }
        #expect(kernel.nativeDriver(of: spare) == nil)
        try kernel.bind(spare, to: "e1000e")
        #expect(try scanned(kernel, spare).driver == "e1000e")
        #expect(kernel.nativeDriver(of: spare) == "e1000e", "the last non-VFIO driver becomes the native one")
        try kernel.unbind(spare, from: "e1000e")
        try kernel.bind(spare, to: "vfio-pci")
        #expect(kernel.nativeDriver(of: spare) == "e1000e", "vfio-pci is never native")
        try restore(kernel, spare)
        #expect(kernel.driver(of: spare) == "e1000e")
    }

    @Test func probeAndOverrideRules() throws {
        defer { kernel.close() }
        #expect(throws: error("bus/pci/drivers_probe", ENODEV)) { try kernel.probe(unknown) }
        #expect(throws: KernelError(call: "write", path: kernel.paths.pciDevice(unknown) + "/driver_override", errno: ENOENT)) {
            try kernel.setDriverOverride(unknown, to: "vfio-pci")
        }
        #expect(throws: KernelError(call: "write", path: kernel.paths.pciDevice(gpu) + "/driver_override", errno: EINVAL)) {
            try kernel.setDriverOverride(gpu, to: "vfio/pci")
        }
        try kernel.setDriverOverride(gpu, to: "vfio-pci")
        try kernel.probe(gpu)
        #expect(kernel.driver(of: gpu) == "nvidia", "probe leaves a bound device alone")
        #expect(kernel.driverOverride(of: gpu) == "vfio-pci")
        try kernel.setDriverOverride(pci("0000:00:1d.0"), to: "vfio-pci")
        try kernel.probe(pci("0000:00:1d.0"))
        #expect(kernel.driver(of: pci("0000:00:1d.0")) == nil, "vfio-pci's probe refuses a bridge")
    }
}
