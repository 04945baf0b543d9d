import JSONString
import VFIOCore

/// How to hand an active assignment's devices to QEMU, libvirt or a container runtime: pure functions of
/// the assignment and the files the kernel offers for it (``HostKernel/holderFiles(group:endpoints:)``).
public enum AttachSpecs {
    /// The formats of `GET /v1/assignments/{id}/attach?format=`.
    public enum Format: String, Sendable, CaseIterable {
        /// QEMU command-line arguments, with the holder socket's descriptors and with paths.
        case qemu
        /// libvirt `<hostdev>` elements.
        case libvirt
        /// A Container Device Interface spec.
        case cdi
    }

    /// The CDI spec version written: the current one of the specification.
    public static let cdiVersion = "1.1.0"
    /// The CDI kind: `podman run --device vfiod.io/group=ASSIGNMENT`.
    public static let cdiKind = "vfiod.io/group"

    /// A CDI spec with one device, named after the assignment, holding the device nodes a container needs
    /// (`/dev/iommu` and the cdevs, or `/dev/vfio/vfio` and the group). `hostPath` is written when the
    /// host's file is elsewhere (a simulated host's tree).
    public static func cdi(_ assignment: Assignment, files: [HolderFile]) -> [UInt8] {
        var out = Array("{\"cdiVersion\":\"\(cdiVersion)\",\"kind\":\"\(cdiKind)\",\"devices\":[{\"name\":".utf8)
        JSONString.append(assignment.id, to: &out)
        out += Array(",\"containerEdits\":{\"deviceNodes\":[".utf8)
        for (index, file) in files.sorted(by: cdiOrder).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array("{\"path\":".utf8)
            JSONString.append(file.devicePath, to: &out)
            if file.path != file.devicePath {
                out += Array(",\"hostPath\":".utf8)
                JSONString.append(file.path, to: &out)
            }
            out += Array(",\"permissions\":\"rw\"}".utf8)
        }
        return out + Array("]}}]}".utf8)
    }

    /// The container first, then the group (or `/dev/iommu`, then the cdevs): the order a runtime creates them.
    private static func cdiOrder(_ a: HolderFile, _ b: HolderFile) -> Bool {
        let rank: [HolderFile.Kind: Int] = [.container: 0, .group: 1, .iommufd: 0, .device: 1]
        return rank[a.kind, default: 2] < rank[b.kind, default: 2]
    }

    /// libvirt `<hostdev>` elements, one per endpoint, `managed='no'`: vfiod did the binding, libvirt must
    /// neither detach nor reattach the devices.
    public static func libvirtHostdevs(_ assignment: Assignment) -> [String] {
        assignment.endpoints.compactMap { PCIAddress($0.address) }.map { address in
            let text = address.description  // DDDD:BB:SS.F
            let parts = text.split(whereSeparator: { $0 == ":" || $0 == "." }).map(String.init)
            return """
                <hostdev mode='subsystem' type='pci' managed='no'>
                  <driver name='vfio'/>
                  <source>
                    <address domain='0x\(parts[0])' bus='0x\(parts[1])' slot='0x\(parts[2])' function='0x\(parts[3])'/>
                  </source>
                </hostdev>
                """
        }
    }

    /// QEMU arguments taking the broker's descriptors (`{N}` stands for the number the holder received the
    /// N-th descriptor as); `nil` on the group path, where QEMU opens the group itself.
    public static func qemuDescriptorArguments(_ files: [HolderFile]) -> [String]? {
        guard files.first?.kind == .iommufd else { return nil }
        var arguments = ["-object", "iommufd,id=iommufd0,fd={0}"]
        for (index, file) in files.enumerated() where file.kind == .device {
            arguments += ["-device", "vfio-pci,id=hostdev\(index - 1),fd={\(index)},iommufd=iommufd0"]
        }
        return arguments
    }

    /// QEMU arguments naming the devices by address: QEMU opens the files itself (it must be allowed to),
    /// through iommufd where the kernel has it.
    public static func qemuPathArguments(_ assignment: Assignment, files: [HolderFile]) -> [String] {
        let iommufd = files.first?.kind == .iommufd
        var arguments = iommufd ? ["-object", "iommufd,id=iommufd0"] : []
        for (index, endpoint) in assignment.endpoints.enumerated() {
            arguments += ["-device", "vfio-pci,id=hostdev\(index),host=\(endpoint.address)" + (iommufd ? ",iommufd=iommufd0" : "")]
        }
        return arguments
    }
}
