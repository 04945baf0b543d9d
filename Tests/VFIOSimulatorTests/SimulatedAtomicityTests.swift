import Foundation
import Testing
import VFIOCore
import VFIOSimulator

/// A SIGKILL inside one simulated write must not leave a tree no kernel produces (it once left
/// `dev/vfio/9` without a vfio-pci member, which the crash tests then trusted). Every step of a lease's
/// writes is interrupted in turn, as a kill there would stop it; a new simulated kernel opening the tree
/// must complete the write that was under way and show a consistent tree.
struct SimulatedAtomicityTests {
    static let nic = pci("0000:02:00.0")

    static func host() -> HostSpec {
        let port = device("0000:00:03.0", 0x060400, driver: "pcieport", group: 2)
        let nic = device("0000:02:00.0", 0x020000, driver: "e1000e", group: 9, parent: "0000:00:03.0")
        let other = device("0000:03:00.0", 0x020000, driver: "vfio-pci", group: 10)
        return HostSpec(devices: [port, nic, other])
    }

    /// A lease and its release, write by write, with the driver each write leaves. The unbind from
    /// vfio-pci runs with this process holding the cdev open: the simulator takes the cooperative path
    /// (cdev removed first, then the wait, which this process does not count, then the rest).
    static let writes: [(String, String?, @Sendable (SimulatedKernel) throws -> Void)] = [
        ("override vfio-pci", "e1000e", { try $0.setDriverOverride(nic, to: "vfio-pci") }),
        ("unbind e1000e", nil, { try $0.unbind(nic, from: "e1000e") }),
        ("probe vfio-pci", "vfio-pci", { try $0.probe(nic) }),
        ("unbind vfio-pci, cdev open", nil, { kernel in
            let cdev = try #require(kernel.vfioCdev(of: nic))
            let fd = open(kernel.paths.dev("vfio/devices/\(cdev)"), O_RDWR | O_CLOEXEC)
            try #require(fd >= 0)
            defer { close(fd) }
            try kernel.unbind(nic, from: "vfio-pci")
        }),
        ("override cleared", nil, { try $0.setDriverOverride(nic, to: nil) }),
        ("probe e1000e", "e1000e", { try $0.probe(nic) }),
    ]

    @Test func aWriteInterruptedAfterAnyStepIsCompletedByTheNextKernelAndLeavesAConsistentTree() throws {
        var interruptions = 0
        for steps in 0..<200 {
            let directory = try ScratchDirectory()
            try SysfsTreeBuilder(root: directory.path).build(Self.host())
            let kernel = try SimulatedKernel(source: directory.path, inPlace: true)
            kernel.interruptTreeChange(afterSteps: steps)
            var interrupted: (String, String?)?
            for (name, driverAfter, write) in Self.writes {
                do {
                    try write(kernel)
                } catch let error as KernelError where error.call == "simulated-kill" {
                    interrupted = (name, driverAfter)
                    break
                }
            }
            guard let (name, driverAfter) = interrupted else {
                #expect(interruptions > 10, "every write was interrupted somewhere: \(interruptions) steps")
                return
            }
            interruptions += 1
            let reopened = try SimulatedKernel(source: directory.path, inPlace: true)
            #expect(reopened.driver(of: Self.nic) == driverAfter, "after step \(steps) of \(name)")
            let problems = TreeConsistency.problems(reopened)
            #expect(problems.isEmpty, "after step \(steps) of \(name): \(problems)")
        }
        Issue.record("the writes never ran to their end")
    }

    @Test func withoutAnInterruptionTheWritesLeaveNoRecordBehind() throws {
        let directory = try ScratchDirectory()
        try SysfsTreeBuilder(root: directory.path).build(Self.host())
        let kernel = try SimulatedKernel(source: directory.path, inPlace: true)
        for (_, _, write) in Self.writes { try write(kernel) }
        #expect(kernel.driver(of: Self.nic) == "e1000e")
        #expect(TreeConsistency.problems(kernel).isEmpty)
        #expect(!kernel.treeChangeInterruptionPending)
    }
}

/// What the kernel never shows once a write has returned (or its writer died): checked on a whole tree.
enum TreeConsistency {
    static func problems(_ kernel: SimulatedKernel) -> [String] {
        var problems: [String] = []
        let paths = kernel.paths
        let devices = ((try? SysfsFiles.listDirectory(paths.sys("bus/pci/devices"))) ?? []).compactMap(PCIAddress.init)
        let cdevSupported = SysfsFiles.isDirectory(paths.dev("vfio/devices"))
        var groupsOnVFIO: Set<Int> = []
        var cdevsOnVFIO: Set<String> = []
        for address in devices {
            let driver = kernel.driver(of: address)
            for name in (try? SysfsFiles.listDirectory(paths.sys("bus/pci/drivers"))) ?? [] {
                let back = SysfsFiles.exists(paths.sys("bus/pci/drivers/\(name)/\(address)"))
                if back != (driver == name) { problems.append("\(address): driver \(driver ?? "none"), \(name)'s link \(back)") }
            }
            let vfioDev = (try? SysfsFiles.listDirectory(paths.pciDevice(address) + "/vfio-dev")) ?? []
            guard driver == "vfio-pci" else {
                if !vfioDev.isEmpty { problems.append("\(address): vfio-dev \(vfioDev) off vfio-pci") }
                continue
            }
            if let group = kernel.iommuGroup(of: address) { groupsOnVFIO.insert(group) }
            if cdevSupported {
                if vfioDev.count != 1 { problems.append("\(address): on vfio-pci with vfio-dev \(vfioDev)") }
                cdevsOnVFIO.formUnion(vfioDev)
            }
        }
        for name in (try? SysfsFiles.listDirectory(paths.dev("vfio"))) ?? [] {
            if let group = Int(name), !groupsOnVFIO.contains(group) { problems.append("dev/vfio/\(group) without a vfio-pci member") }
        }
        for group in groupsOnVFIO where !kernel.groupDeviceExists(group) { problems.append("no dev/vfio/\(group)") }
        let nodes = Set((try? SysfsFiles.listDirectory(paths.dev("vfio/devices"))) ?? [])
        if nodes != cdevsOnVFIO { problems.append("dev/vfio/devices \(nodes.sorted()), cdevs on vfio-pci \(cdevsOnVFIO.sorted())") }
        for leftover in ["pending", "unbinding"] {
            let names = (try? SysfsFiles.listDirectory(paths.root + "/.vfiod-simulator/" + leftover)) ?? []
            if !names.isEmpty { problems.append(".vfiod-simulator/\(leftover): \(names)") }
        }
        return problems
    }
}
