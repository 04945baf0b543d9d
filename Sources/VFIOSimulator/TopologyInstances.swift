import VFIOCore

extension Topology {
    /// The functions one entry stands for: itself, or one per combination of its `repeat` levels.
    static func instances(of entry: Device, label: String) throws -> [DeviceSpec] {
        let template = try template(of: entry, label: label)
        let serial = try entry.serialNumber.map { text -> UInt64 in
            guard let value = PCIConfigSpace.parse(text) else {
                throw TopologyError("\(label): field \"serialNumber\": \(text.debugDescription) is not xx-xx-xx-xx-xx-xx-xx-xx")
            }
            return value
        }
        let levels = entry.repeat?.levels ?? []
        var counts: [Int] = []
        for (index, level) in levels.enumerated() {
            guard level.count >= 1, level.count <= 65_536 else {
                throw TopologyError("\(label): field \"repeat[\(index)].count\": \(level.count) is not within 1...65536")
            }
            counts.append(level.count)
        }
        let total = counts.reduce(1, *)
        guard total <= 65_536 else { throw TopologyError("\(label): field \"repeat\": \(total) instances is more than 65536") }
        var result: [DeviceSpec] = []
        result.reserveCapacity(total)
        for flat in 0..<total {
            var device = try place(template, instance: flat, levels: levels, counts: counts, label: label)
            if let serial { device.serialNumber = serial &+ UInt64(flat) }
            device.blockDevices = (entry.blockDevices ?? []).map {
                DeviceSpec.BlockDevice(name: numbered($0.name, flat), mountPoint: $0.mountPoint.map { numbered($0, flat) },
                                       deviceMapper: $0.deviceMapper.map { numbered($0, flat) })
            }
            device.netInterfaces = (entry.netInterfaces ?? []).map {
                DeviceSpec.NetInterface(name: numbered($0.name, flat), defaultRoute: $0.defaultRoute ?? false)
            }
            result.append(device)
        }
        return result
    }

    /// The entry's device before repetition: its address, parent, IDs and attributes checked and parsed.
    private static func template(of entry: Device, label: String) throws -> DeviceSpec {
        guard let base = PCIAddress(entry.address) else {
            throw TopologyError("\(label): field \"address\": \(entry.address.debugDescription) is not a PCI address (dddd:bb:ss.f, lowercase hex)")
        }
        let parent = try entry.parent.map { try address($0, label: label, field: "parent") }
        let physfn = try entry.physfn.map { try address($0, label: label, field: "physfn") }
        var template = DeviceSpec(address: base,
                                  vendorID: UInt16(try hex(entry.vendor, bits: 16, label: label, field: "vendor")),
                                  deviceID: UInt16(try hex(entry.device, bits: 16, label: label, field: "device")),
                                  classCode: UInt32(try hex(entry.class, bits: 24, label: label, field: "class")),
                                  revision: UInt8(try entry.revision.map { try hex($0, bits: 8, label: label, field: "revision") } ?? 0),
                                  driver: entry.driver, iommuGroup: entry.iommuGroup, parent: parent)
        template.subsystemVendorID = try entry.subsystemVendor.map { UInt16(try hex($0, bits: 16, label: label, field: "subsystemVendor")) }
        template.subsystemDeviceID = try entry.subsystemDevice.map { UInt16(try hex($0, bits: 16, label: label, field: "subsystemDevice")) }
        template.driverOverride = entry.driverOverride
        template.numaNode = entry.numaNode
        template.bootVGA = entry.bootVga ?? false
        template.resetMethods = entry.resetMethods
        template.faults = try (entry.faults ?? []).map { name in
            guard SimulatorFault.names.contains(name) else {
                throw TopologyError("\(label): field \"faults\": \(name.debugDescription) is not one of "
                                    + SimulatorFault.names.joined(separator: ", "))
            }
            return name
        }
        template.physfn = physfn
        template.sriov = entry.sriov.map { DeviceSpec.SRIOV(totalVFs: $0.totalVfs, numVFs: $0.numVfs) }
        return template
    }

    /// `template` moved to instance `flat` of the repetition: its address, parent and IOMMU group advanced
    /// by each level's index times that level's step.
    private static func place(_ template: DeviceSpec, instance flat: Int, levels: [Repeat], counts: [Int],
                              label: String) throws -> DeviceSpec {
        var indices: [Int] = []
        var rest = flat
        for count in counts.reversed() { indices.insert(rest % count, at: 0); rest /= count }
        var addressOffset = 0, parentOffset = 0, groupOffset = 0
        for (level, index) in zip(levels, indices) {
            addressOffset += index * (level.stride ?? 1) * (try unit(level.step ?? "function", label: label, field: "repeat.step"))
            if let step = level.parentStep { parentOffset += index * (try unit(step, label: label, field: "repeat.parentStep")) }
        }
        // Groups: by default one per instance; a level's groupStride overrides its share.
        for (levelIndex, index) in indices.enumerated() {
            let inner = counts[(levelIndex + 1)...].reduce(1, *)
            groupOffset += index * (levels[levelIndex].groupStride ?? inner)
        }
        var device = template
        device.address = try offset(template.address, by: addressOffset, label: label, field: "address")
        if let parent = template.parent { device.parent = try offset(parent, by: parentOffset, label: label, field: "parent") }
        if let group = template.iommuGroup { device.iommuGroup = group + groupOffset }
        return device
    }

    /// `text` with every `{i}` replaced by the instance number.
    private static func numbered(_ text: String, _ instance: Int) -> String {
        text.replacingOccurrences(of: "{i}", with: String(instance))
    }

    /// The PCI address in field `field`.
    private static func address(_ text: String, label: String, field: String) throws -> PCIAddress {
        guard let address = PCIAddress(text) else {
            throw TopologyError("\(label): field \"\(field)\": \(text.debugDescription) is not a PCI address")
        }
        return address
    }

    /// Functions per step: a function is 1, a slot 8, a bus 256.
    static func unit(_ step: String, label: String, field: String) throws -> Int {
        switch step {
        case "function": return 1
        case "slot": return 8
        case "bus": return 256
        default: throw TopologyError("\(label): field \"\(field)\": \(step.debugDescription) is not function, slot or bus")
        }
    }

    /// `address` advanced by `count` functions, carrying into slot and bus.
    static func offset(_ address: PCIAddress, by count: Int, label: String, field: String) throws -> PCIAddress {
        let linear = Int(address.bus) << 8 | Int(address.slot) << 3 | Int(address.function)
        let next = linear + count
        guard next <= 0xffff, let result = PCIAddress(domain: address.domain, bus: UInt8(next >> 8),
                                                      slot: UInt8((next >> 3) & 31), function: UInt8(next & 7)) else {
            throw TopologyError("\(label): field \"\(field)\": repetition runs past bus ff")
        }
        return result
    }

    /// Parses `0x10de` / `10de` within `bits`.
    static func hex(_ text: String, bits: Int, label: String, field: String) throws -> UInt64 {
        guard let value = SysfsText.hex(Array(text.utf8)), value < (1 << UInt64(bits)), !text.isEmpty,
              !text.contains(where: { $0 == " " || $0 == "\n" }) else {
            throw TopologyError("\(label): field \"\(field)\": \(text.debugDescription) is not a \(bits)-bit hex number")
        }
        return value
    }
}
