import VFIOCore

extension Topology {
    /// Expands repetitions and generated VFs into a validated ``HostSpec``. Throws ``TopologyError``.
    public func expand() throws -> HostSpec {
        var host = HostSpec(devices: [])
        if let given = self.host {
            host.kernelRelease = given.kernelRelease ?? host.kernelRelease
            host.bootID = given.bootId ?? host.bootID
            host.iommu = given.iommu ?? true
            host.vfioPCILoaded = given.vfioPciLoaded ?? true
            host.cdev = given.cdev ?? true
            host.iommufd = given.iommufd ?? true
        }
        var origin: [PCIAddress: String] = [:]
        var templates: [(DeviceSpec, SRIOV?, String)] = []
        for (index, entry) in devices.enumerated() {
            let label = "devices[\(index)] (\(entry.address))"
            for device in try Self.instances(of: entry, label: label) {
                if let first = origin[device.address] {
                    throw TopologyError("\(label): field \"address\": \(device.address) duplicates \(first)")
                }
                origin[device.address] = label
                templates.append((device, entry.sriov, label))
            }
        }
        var specs = templates.map(\.0)
        let listedPFs = Set(specs.compactMap(\.physfn))
        var nextGroup = (specs.compactMap(\.iommuGroup).max() ?? -1) + 1
        for (pf, sriov, label) in templates {
            guard let sriov, !listedPFs.contains(pf.address), sriov.numVfs > 0 else { continue }
            for vf in try Self.virtualFunctions(of: pf, sriov, label: label, nextGroup: &nextGroup) {
                if let first = origin[vf.address] {
                    throw TopologyError("\(label): field \"sriov\": VF \(vf.address) collides with \(first)")
                }
                origin[vf.address] = "\(label) VF"
                specs.append(vf)
            }
        }
        try Self.validate(specs, origin: origin)
        host.devices = specs
        return host
    }

    /// The VFs of a PF at routing id PF + offset + k × stride.
    static func virtualFunctions(of pf: DeviceSpec, _ sriov: SRIOV, label: String, nextGroup: inout Int) throws -> [DeviceSpec] {
        let pfID = Int(pf.address.bus) << 8 | Int(pf.address.slot) << 3 | Int(pf.address.function)
        let deviceID = try sriov.vfDevice.map { try hex($0, bits: 16, label: label, field: "sriov.vfDevice") } ?? UInt64(pf.deviceID)
        var vfs: [DeviceSpec] = []
        for k in 0..<sriov.numVfs {
            let routingID = pfID + (sriov.vfOffset ?? 1) + k * (sriov.vfStride ?? 1)
            guard routingID <= 0xffff, let address = PCIAddress(domain: pf.address.domain, bus: UInt8(routingID >> 8),
                                                                 slot: UInt8((routingID >> 3) & 31), function: UInt8(routingID & 7)) else {
                throw TopologyError("\(label): field \"sriov\": VF \(k) falls past bus ff")
            }
            var vf = DeviceSpec(address: address, vendorID: pf.vendorID, deviceID: UInt16(deviceID), classCode: pf.classCode,
                                revision: pf.revision, driver: sriov.vfDriver)
            vf.physfn = pf.address
            vf.numaNode = pf.numaNode
            vf.resetMethods = ["flr"]
            if let first = sriov.firstVfGroup { vf.iommuGroup = first + k } else { vf.iommuGroup = nextGroup; nextGroup += 1 }
            vfs.append(vf)
        }
        return vfs
    }

    /// Cross-device rules: parents exist and are bridges, VFs have SR-IOV PFs, counts make sense.
    static func validate(_ specs: [DeviceSpec], origin: [PCIAddress: String]) throws {
        let byAddress = Dictionary(specs.map { ($0.address, $0) }, uniquingKeysWith: { first, _ in first })
        var vfCounts: [PCIAddress: Int] = [:]
        for device in specs {
            let label = origin[device.address] ?? device.address.description
            if let parent = device.parent {
                guard let bridge = byAddress[parent] else {
                    throw TopologyError("\(label): field \"parent\": \(parent) is not a device of this host")
                }
                guard bridge.isBridge else {
                    throw TopologyError("\(label): field \"parent\": \(parent) is not a bridge (class 0x0604 or 0x0609)")
                }
                guard parent != device.address else { throw TopologyError("\(label): field \"parent\": a device cannot be its own parent") }
            }
            if let physfn = device.physfn {
                guard let pf = byAddress[physfn] else { throw TopologyError("\(label): field \"physfn\": VF without PF: \(physfn) is not a device of this host") }
                guard pf.sriov != nil else { throw TopologyError("\(label): field \"physfn\": \(physfn) has no \"sriov\"") }
                vfCounts[physfn, default: 0] += 1
            }
            if let sriov = device.sriov, sriov.numVFs > sriov.totalVFs || sriov.numVFs < 0 {
                throw TopologyError("\(label): field \"sriov\": numVfs \(sriov.numVFs) is not within 0...totalVfs \(sriov.totalVFs)")
            }
            if let group = device.iommuGroup, group < 0 { throw TopologyError("\(label): field \"iommuGroup\": negative") }
            for name in device.blockDevices.map(\.name) + device.netInterfaces.map(\.name) + [device.driver].compactMap({ $0 }) {
                if name.isEmpty || name.contains("/") || name == "." || name == ".." {
                    throw TopologyError("\(label): name \(name.debugDescription) is not a valid file name")
                }
            }
        }
        // Every PF counted here was checked above to be a device with "sriov".
        for (pf, count) in vfCounts {
            if let total = byAddress[pf]?.sriov?.totalVFs, count > total {
                throw TopologyError("\(origin[pf] ?? pf.description): field \"sriov\": \(count) VFs listed, totalVfs is \(total)")
            }
        }
        _ = try specs.map { try SysfsTreeBuilder.devicePath($0, in: byAddress) }  // cycles
    }
}
