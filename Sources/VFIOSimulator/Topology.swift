public import Foundation

/// A topology file as users write it (JSON): host facts and device entries, where one entry can stand for
/// many functions through `repeat`. See `examples/topologies/README.md`. ``expand()`` turns it into a
/// validated ``HostSpec``.
public struct Topology: Codable, Sendable {
    /// Host-wide facts.
    public var host: Host?
    /// Device entries (templates when they carry `repeat`).
    public var devices: [Device]

    /// Host-wide facts; every field optional.
    public struct Host: Codable, Sendable {
        /// `proc/sys/kernel/osrelease`.
        public var kernelRelease: String?
        /// `proc/sys/kernel/random/boot_id`.
        public var bootId: String?
        /// IOMMU on (groups exist). Default true.
        public var iommu: Bool?
        /// vfio-pci loaded. Default true.
        public var vfioPciLoaded: Bool?
        /// VFIO device cdev (`/dev/vfio/devices`). Default true.
        public var cdev: Bool?
        /// `/dev/iommu`. Default true.
        public var iommufd: Bool?
    }

    /// One device entry. Ids and class are hex strings (`"0x10de"`).
    public struct Device: Codable, Sendable {
        /// `dddd:bb:ss.f`.
        public var address: String
        /// Vendor id, hex.
        public var vendor: String
        /// Device id, hex.
        public var device: String
        /// Subsystem vendor id, hex.
        public var subsystemVendor: String?
        /// Subsystem device id, hex.
        public var subsystemDevice: String?
        /// 24-bit class code, hex.
        public var `class`: String
        /// Revision, hex.
        public var revision: String?
        /// Bound driver; `null` for none.
        public var driver: String?
        /// `driver_override`.
        public var driverOverride: String?
        /// IOMMU group number.
        public var iommuGroup: Int?
        /// NUMA node; omitted means -1.
        public var numaNode: Int?
        /// The firmware console GPU.
        public var bootVga: Bool?
        /// `reset_method` words.
        public var resetMethods: [String]?
        /// Simulator faults this function starts with (`hotResetFails`, `resetFails`, `deadAfterReset`,
        /// `unbindBusy`, `probeLeavesDriverless`, `unbindBlocks`): how a real device misbehaves.
        public var faults: [String]?
        /// The bridge this function sits below.
        public var parent: String?
        /// For a VF listed by hand: its physical function.
        public var physfn: String?
        /// SR-IOV capability of a physical function.
        public var sriov: SRIOV?
        /// Disks below the function.
        public var blockDevices: [Block]?
        /// Network interfaces below the function.
        public var netInterfaces: [Net]?
        /// `xx-xx-xx-xx-xx-xx-xx-xx`; repeated entries add the instance number.
        public var serialNumber: String?
        /// Repetition, one level or several (outermost first).
        public var `repeat`: RepeatLevels?
    }

    /// SR-IOV on a physical function; VFs are generated unless devices list this PF as `physfn`.
    public struct SRIOV: Codable, Sendable {
        /// `sriov_totalvfs`.
        public var totalVfs: Int
        /// `sriov_numvfs`.
        public var numVfs: Int
        /// VF device id (defaults to the PF's).
        public var vfDevice: String?
        /// VF driver (default none).
        public var vfDriver: String?
        /// First VF Offset and VF Stride, in routing ids (bus << 8 | devfn), as in the SR-IOV capability.
        public var vfOffset: Int?
        /// VF Stride (routing ids).
        public var vfStride: Int?
        /// Group of the first VF, the next ones follow; default: after the highest group in the file.
        public var firstVfGroup: Int?
    }

    /// A disk below the device.
    public struct Block: Codable, Sendable {
        /// Kernel name.
        public var name: String
        /// Mount point; omitted: not mounted.
        public var mountPoint: String?
        /// A dm device stacked on the disk, mounted instead.
        public var deviceMapper: String?
    }

    /// A network interface below the device.
    public struct Net: Codable, Sendable {
        /// Kernel name.
        public var name: String
        /// Carries the default route.
        public var defaultRoute: Bool?
    }

    /// One level of repetition: `count` instances, the address advancing by `stride` units of `step`.
    public struct Repeat: Codable, Sendable {
        /// Instances of this level.
        public var count: Int
        /// `function`, `slot` or `bus` (carries into the next field, like counting).
        public var step: String?
        /// Units of `step` between instances (default 1).
        public var stride: Int?
        /// How the parent address advances per instance of this level (`slot`, `bus`, `function`); none: fixed.
        public var parentStep: String?
        /// How the IOMMU group advances per instance of this level; default: one group per instance overall.
        public var groupStride: Int?
    }

    /// `repeat` as one object or an array of levels.
    public struct RepeatLevels: Codable, Sendable {
        /// The levels, outermost first.
        public var levels: [Repeat]
        /// Decodes one object or an array.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let many = try? container.decode([Repeat].self) { levels = many } else { levels = [try container.decode(Repeat.self)] }
        }
        /// Encodes the levels as an array.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(levels)
        }
    }

    /// Decodes a topology from JSON; a malformed file throws one ``TopologyError`` line.
    public static func decode(_ data: Data) throws -> Topology {
        do {
            return try JSONDecoder().decode(Topology.self, from: data)
        } catch let error as DecodingError {
            throw TopologyError.from(error)
        }
    }

    /// Reads and decodes a topology file, then expands it. Throws ``TopologyError`` naming the file.
    public static func load(path: String) throws -> HostSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TopologyError("\(path): cannot read the topology file")
        }
        do {
            return try decode(data).expand()
        } catch let error as TopologyError {
            throw TopologyError("\((path as NSString).lastPathComponent): \(error.message)")
        }
    }
}
