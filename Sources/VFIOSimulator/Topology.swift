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
        public var address: String
        public var vendor: String
        public var device: String
        public var subsystemVendor: String?
        public var subsystemDevice: String?
        public var `class`: String
        public var revision: String?
        public var driver: String?
        public var driverOverride: String?
        public var iommuGroup: Int?
        public var numaNode: Int?
        public var bootVga: Bool?
        public var resetMethods: [String]?
        /// The bridge this function sits below.
        public var parent: String?
        /// For a VF listed by hand: its physical function.
        public var physfn: String?
        public var sriov: SRIOV?
        public var blockDevices: [Block]?
        public var netInterfaces: [Net]?
        /// `xx-xx-xx-xx-xx-xx-xx-xx`; repeated entries add the instance number.
        public var serialNumber: String?
        /// Repetition, one level or several (outermost first).
        public var `repeat`: RepeatLevels?
    }

    /// SR-IOV on a physical function; VFs are generated unless devices list this PF as `physfn`.
    public struct SRIOV: Codable, Sendable {
        public var totalVfs: Int
        public var numVfs: Int
        /// VF device id (defaults to the PF's).
        public var vfDevice: String?
        /// VF driver (default none).
        public var vfDriver: String?
        /// First VF Offset and VF Stride, in routing ids (bus << 8 | devfn), as in the SR-IOV capability.
        public var vfOffset: Int?
        public var vfStride: Int?
        /// Group of the first VF, the next ones follow; default: after the highest group in the file.
        public var firstVfGroup: Int?
    }

    /// A disk below the device.
    public struct Block: Codable, Sendable {
        public var name: String
        public var mountPoint: String?
        public var deviceMapper: String?
    }

    /// A network interface below the device.
    public struct Net: Codable, Sendable {
        public var name: String
        public var defaultRoute: Bool?
    }

    /// One level of repetition: `count` instances, the address advancing by `stride` units of `step`.
    public struct Repeat: Codable, Sendable {
        public var count: Int
        /// `function`, `slot` or `bus` (carries into the next field, like counting).
        public var step: String?
        public var stride: Int?
        /// How the parent address advances per instance of this level (`slot`, `bus`, `function`); none: fixed.
        public var parentStep: String?
        /// How the IOMMU group advances per instance of this level; default: one group per instance overall.
        public var groupStride: Int?
    }

    /// `repeat` as one object or an array of levels.
    public struct RepeatLevels: Codable, Sendable {
        public var levels: [Repeat]
        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let many = try? container.decode([Repeat].self) { levels = many } else { levels = [try container.decode(Repeat.self)] }
        }
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
