import CVFIO
import Testing
@testable import VFIOCore

/// The Swift views of the C argument structs match the kernel's layout, and the variable-length buffers
/// the wrappers build carry the right bytes at the right offsets.
struct IoctlLayoutTests {
    /// Reads a `T` at `offset` of `bytes`.
    static func load<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], _ offset: Int) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }

    @Test func dependentDeviceLayout() {
        #expect(MemoryLayout<vfio_pci_dependent_device>.size == 8)
        #expect(MemoryLayout<vfio_pci_dependent_device>.offset(of: \.group_id) == 0)
        #expect(MemoryLayout<vfio_pci_dependent_device>.offset(of: \.segment) == 4)
        #expect(MemoryLayout<vfio_pci_dependent_device>.offset(of: \.bus) == 6)
        #expect(MemoryLayout<vfio_pci_dependent_device>.offset(of: \.devfn) == 7)
        #expect(MemoryLayout<vfio_pci_hot_reset_info>.offset(of: \.count) == 8)
        #expect(MemoryLayout<vfio_pci_hot_reset>.size == 12)
    }

    @Test func fixedArgumentStructs() {
        #expect(MemoryLayout<vfio_irq_info>.size == 16)
        #expect(MemoryLayout<vfio_irq_info>.offset(of: \.index) == 8)
        #expect(MemoryLayout<vfio_irq_info>.offset(of: \.count) == 12)
        #expect(MemoryLayout<vfio_device_info>.offset(of: \.num_irqs) == 12)
        #expect(MemoryLayout<cvfio_device_bind_iommufd>.offset(of: \.iommufd) == 8)
        #expect(MemoryLayout<cvfio_device_bind_iommufd>.offset(of: \.out_devid) == 12)
        #expect(MemoryLayout<cvfio_device_attach_iommufd_pt>.size == 12)
        #expect(MemoryLayout<cvfio_device_detach_iommufd_pt>.size == 8)
        #expect(MemoryLayout<cvfio_iommu_ioas_alloc>.offset(of: \.out_ioas_id) == 8)
        #expect(MemoryLayout<cvfio_iommu_destroy>.size == 8)
    }

    @Test func irqSetWithOneEventfd() {
        let bytes = VFIOIRQSetBuffer.eventfdTrigger(index: CVFIO_PCI_REQ_IRQ_INDEX, eventfd: 42)
        #expect(bytes.count == 24)
        #expect(Self.load(UInt32.self, bytes, 0) == 24)  // argsz
        #expect(Self.load(UInt32.self, bytes, 4) == CVFIO_IRQ_SET_DATA_EVENTFD | CVFIO_IRQ_SET_ACTION_TRIGGER)
        #expect(Self.load(UInt32.self, bytes, 8) == 4)  // index
        #expect(Self.load(UInt32.self, bytes, 12) == 0)  // start
        #expect(Self.load(UInt32.self, bytes, 16) == 1)  // count
        #expect(Self.load(Int32.self, bytes, 20) == 42)
        #expect(Self.load(Int32.self, VFIOIRQSetBuffer.eventfdTrigger(index: 4, eventfd: -1), 20) == -1)
    }

    @Test func hotResetInfoRequestSizesItsRoom() {
        let empty = VFIOHotResetBuffer.infoRequest(capacity: 0)
        #expect(empty.count == 12)
        #expect(Self.load(UInt32.self, empty, 0) == 12)
        let room = VFIOHotResetBuffer.infoRequest(capacity: 5)
        #expect(room.count == 52)
        #expect(Self.load(UInt32.self, room, 0) == 52)
        #expect(room[4...].allSatisfy { $0 == 0 })
    }

    @Test func hotResetRequestCarriesTheGroupFDs() {
        let bytes = VFIOHotResetBuffer.resetRequest(groupFDs: [7, 9, 11])
        #expect(bytes.count == 24)
        #expect(Self.load(UInt32.self, bytes, 0) == 24)
        #expect(Self.load(UInt32.self, bytes, 4) == 0)
        #expect(Self.load(UInt32.self, bytes, 8) == 3)
        #expect([12, 16, 20].map { Self.load(Int32.self, bytes, $0) } == [7, 9, 11])
        // The cdev form: a header saying zero fds.
        let cdev = VFIOHotResetBuffer.resetRequest(groupFDs: [])
        #expect(cdev.count == 12)
        #expect(Self.load(UInt32.self, cdev, 0) == 12)
        #expect(Self.load(UInt32.self, cdev, 8) == 0)
    }
}
