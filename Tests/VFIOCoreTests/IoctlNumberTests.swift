import CVFIO
import Testing

/// The request numbers are ABI: `_IO(';', 100 + n)` = 0x3b00 + 100 + n, iommufd `_IO(';', 0x80 + n)`.
struct IoctlNumberTests {
    private static func io(_ number: UInt) -> UInt { UInt(UInt8(ascii: ";")) << 8 | number }

    @Test func documentedNumbers() {
        #expect(CVFIO_GET_API_VERSION == 15204)
        #expect(CVFIO_GROUP_GET_STATUS == 15207)
        #expect(CVFIO_DEVICE_PCI_HOT_RESET == 15217)
    }

    @Test func vfioNumbersFollowTheBaseRule() {
        let expected: [(UInt, UInt)] = [
            (CVFIO_GET_API_VERSION, 0), (CVFIO_CHECK_EXTENSION, 1), (CVFIO_SET_IOMMU, 2),
            (CVFIO_GROUP_GET_STATUS, 3), (CVFIO_GROUP_SET_CONTAINER, 4), (CVFIO_GROUP_UNSET_CONTAINER, 5),
            (CVFIO_GROUP_GET_DEVICE_FD, 6), (CVFIO_DEVICE_GET_INFO, 7), (CVFIO_DEVICE_GET_IRQ_INFO, 9),
            (CVFIO_DEVICE_SET_IRQS, 10), (CVFIO_DEVICE_RESET, 11), (CVFIO_DEVICE_GET_PCI_HOT_RESET_INFO, 12),
            (CVFIO_DEVICE_PCI_HOT_RESET, 13), (CVFIO_DEVICE_BIND_IOMMUFD, 18),
            (CVFIO_DEVICE_ATTACH_IOMMUFD_PT, 19), (CVFIO_DEVICE_DETACH_IOMMUFD_PT, 20),
        ]
        for (actual, offset) in expected {
            #expect(actual == Self.io(100 + offset), "VFIO_BASE + \(offset)")
        }
        #expect(CVFIO_DEVICE_BIND_IOMMUFD == 15222)
    }

    @Test func iommufdNumbers() {
        #expect(CVFIO_IOMMU_DESTROY == Self.io(0x80))
        #expect(CVFIO_IOMMU_IOAS_ALLOC == Self.io(0x81))
        #expect(CVFIO_IOMMU_IOAS_ALLOC == 15233)
    }

    @Test func flags() {
        #expect(CVFIO_GROUP_FLAGS_VIABLE == 1)
        #expect(CVFIO_DEVICE_FLAGS_RESET == 1)
        #expect(CVFIO_TYPE1v2_IOMMU == 3)
        #expect(CVFIO_PCI_REQ_IRQ_INDEX == 4)
        #expect(CVFIO_PCI_HOT_RESET_FLAG_DEV_ID == 1)
        #expect(CVFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED == 2)
        #expect(CVFIO_IRQ_SET_DATA_EVENTFD == 4)
        #expect(CVFIO_IRQ_SET_ACTION_TRIGGER == 32)
        #expect(CVFIO_API_VERSION == 0)
    }

    @Test func structSizes() {
        #expect(MemoryLayout<vfio_group_status>.size == 8)
        // 6.1 headers end at cap_offset (20 bytes); newer ones add a pad (24). The kernel's minimum is 16.
        #expect([20, 24].contains(MemoryLayout<vfio_device_info>.size))
        #expect(MemoryLayout<vfio_pci_hot_reset_info>.size == 12)
        #expect(MemoryLayout<vfio_pci_dependent_device>.size == 8)
        #expect(MemoryLayout<vfio_irq_set>.size == 20)
        #expect(MemoryLayout<cvfio_device_bind_iommufd>.size == 16)
        #expect(MemoryLayout<cvfio_iommu_ioas_alloc>.size == 12)
    }
}
