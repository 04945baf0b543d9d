import Testing
import VFIOCore

struct UeventMonitorTests {
    @Test func parsesAKernelBindEvent() throws {
        let text = "bind@/devices/pci0000:00/0000:00:01.0/0000:01:00.0\0ACTION=bind\0DEVPATH=/devices/pci0000:00/0000:00:01.0/0000:01:00.0\0SUBSYSTEM=pci\0DRIVER=vfio-pci\0PCI_SLOT_NAME=0000:01:00.0\0SEQNUM=4711\0"
        let message = try #require(UeventMessage(Array(text.utf8)))
        #expect(message.action == "bind")
        #expect(message.subsystem == "pci")
        #expect(message.driver == "vfio-pci")
        #expect(message.address?.description == "0000:01:00.0")
        #expect(message.devicePath == "/devices/pci0000:00/0000:00:01.0/0000:01:00.0")
        #expect(message.properties["SEQNUM"] == "4711")
    }

    @Test func refusesUdevRebroadcasts() {
        #expect(UeventMessage(Array("libudev\0\u{fe}\u{ed}".utf8)) == nil)
    }

    @Test func opensAndStops() {
        let monitor = UeventMonitor { _ in }
        do {
            try monitor.start()
            #expect(monitor.isRunning)
            monitor.stop()
            #expect(!monitor.isRunning)
            monitor.stop()
        } catch let error as KernelError {
            // A container without the netlink family: start() must say which call failed.
            #expect(["socket", "bind"].contains(error.call))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
