import Foundation
import Testing
import TestSupport
import VFIOCore

/// The `/dev/kmsg` record format, parsed from bytes and read from regular files.
struct KernelLogReaderTests {
    @Test func aRecordLineGivesSequenceMicrosecondsAndText() {
        let record = KernelLogReader.parseRecord(Array("6,1234,5678901,-;vfio-pci 0000:01:00.0: Relaying device request to user (#0)".utf8))
        #expect(record == KernelLogRecord(sequence: 1234, microseconds: 5678901,
                                          text: "vfio-pci 0000:01:00.0: Relaying device request to user (#0)"))
    }

    @Test func extraHeaderFieldsAndSemicolonsInTheTextAreKept() {
        let record = KernelLogReader.parseRecord(Array("4,7,99,c,caller=T12;a; b;c".utf8))
        #expect(record == KernelLogRecord(sequence: 7, microseconds: 99, text: "a; b;c"))
    }

    @Test(arguments: [" SUBSYSTEM=pci", "", "no header", "6,x,1,-;text", "6,1;text", "6,1,2;text", ",1,2,-;text",
                      "6,99999999999999999999999,1,-;overflow"])
    func linesThatAreNotRecordsAreNil(_ line: String) {
        #expect(KernelLogReader.parseRecord(Array(line.utf8)) == nil)
    }

    @Test func continuationLinesAreSkipped() {
        let text = "6,1,10,-;first\n SUBSYSTEM=pci\n DEVICE=+pci:0000:01:00.0\n6,2,20,-;second\n"
        #expect(KernelLogReader.parseRecords(Array(text.utf8)).map(\.text) == ["first", "second"])
    }

    @Test func aFileIsReadToItsEndAndFilteredByAddressAndSequence() throws {
        let directory = try TemporaryDirectory(prefix: "kmsg")
        let path = directory.path + "/kmsg"
        var lines = ""
        for sequence in 0..<300 {  // more than one 8 KiB read
            let address = sequence % 2 == 0 ? "0000:01:00.0" : "0000:02:00.0"
            lines += "6,\(sequence),\(sequence * 10),-;vfio-pci \(address): message number \(sequence) padding padding\n"
            lines += " DEVICE=+pci:\(address)\n"
        }
        lines += "6,300,3000,-;vfio-pci 0000:01:00.0: last line without newline"
        try Data(lines.utf8).write(to: URL(fileURLWithPath: path))
        let all = KernelLogReader.records(at: path, containing: "0000:01:00.0", after: nil)
        #expect(all.count == 151)
        #expect(all.first?.sequence == 0)
        #expect(all.last?.text == "vfio-pci 0000:01:00.0: last line without newline")
        let later = KernelLogReader.records(at: path, containing: "0000:01:00.0", after: 296)
        #expect(later.map(\.sequence) == [298, 300])
    }

    @Test func aMissingLogIsEmpty() throws {
        let directory = try TemporaryDirectory(prefix: "kmsg")
        #expect(KernelLogReader.records(at: directory.path + "/none", containing: "0000", after: nil).isEmpty)
    }
}

/// How many device requests an unbind's wait made, from the kernel log's `#N` (vfio-pci logs only every
/// tenth) and the kernel's 10 s cadence.
struct DeviceRequestCountTests {
    /// Records as `/dev/kmsg` hands them out: vfio-pci logs #0 at once and #10 a hundred seconds later.
    static let kmsg = "6,1233,25049706,-;vfio-pci 0000:01:00.0: enabling device (0000 -> 0002)\n SUBSYSTEM=pci\n"
        + "6,1234,25049706,-;vfio-pci 0000:01:00.0: Relaying device request to user (#0)\n SUBSYSTEM=pci\n DEVICE=+pci:0000:01:00.0\n"
        + "6,1290,125049710,-;vfio-pci 0000:01:00.0: Relaying device request to user (#10)\n SUBSYSTEM=pci\n"
        + "4,1291,125050000,-;vfio-pci 0000:01:00.0: No device request channel registered, blocked until released by user\n"

    @Test func theRequestNumberIsTheLogLinesHashN() {
        let numbers = KernelLogReader.parseRecords(Array(Self.kmsg.utf8)).map { DeviceRequestCount.requestNumber(in: $0.text) }
        #expect(numbers == [nil, 0, 10, nil])
        #expect(DeviceRequestCount.requestNumber(in: "vfio-pci 0000:01:00.0: Relaying device request to user (#)") == nil)
        #expect(DeviceRequestCount.requestNumber(in: "vfio-pci 0000:01:00.0: Relaying device request to user (#1a)") == nil)
        #expect(DeviceRequestCount.requestNumber(in: "vfio-pci 0000:01:00.0: Relaying device request to user (#123)") == 123)
    }

    /// The case the lab found: an opener saw 5 requests, the log showed one line (#0).
    @Test func anOpenerHeldFortyOneSecondsAfterTheFirstLineGotFiveRequests() {
        let count = DeviceRequestCount(sightings: [(number: 0, seenAt: 100.4)], heldUntil: 141.5, interval: .seconds(10))
        #expect(count.logged == 1)
        #expect(count.total == 5)
        #expect(count.isInferred)
    }

    @Test func theNewestLineAnchorsTheCountAndWithoutAOpenerSeenLaterNothingIsInferred() {
        let sightings: [DeviceRequestCount.Sighting] = [(number: 0, seenAt: 25.2), (number: 10, seenAt: 125.3)]
        let held = DeviceRequestCount(sightings: sightings, heldUntil: 131, interval: .seconds(10))
        #expect(held.logged == 11 && held.total == 11 && !held.isInferred)
        let later = DeviceRequestCount(sightings: sightings, heldUntil: 146, interval: .seconds(10))
        #expect(later.total == 13)
        let notHeld = DeviceRequestCount(sightings: sightings, heldUntil: nil, interval: .seconds(10))
        #expect(notHeld.total == 11 && notHeld.logged == 11)
        #expect(DeviceRequestCount(sightings: [], heldUntil: 100, interval: .seconds(10)).total == 0)
    }

    /// Against the kernel's schedule (request i at i × 10 s, logged when i % 10 == 0, each line read up to
    /// 0.5 s late, the opener looked at every 0.5 s until it let go): never more than were made, and
    /// never fewer than were made before the last look minus the one that may have come since.
    @Test(arguments: [0.0, 0.01, 0.25, 0.49])
    func theCountIsALowerBoundThatFollowsTheKernelsCadence(_ delay: Double) {
        for lettingGo in stride(from: 0.3, to: 250, by: 3.7) {
            let made = Int((lettingGo / 10).rounded(.down)) + 1
            let sightings = (0..<made).filter { $0 % 10 == 0 }.map { (number: $0, seenAt: Double($0) * 10 + delay) }
            let lastLook = (lettingGo / 0.5).rounded(.down) * 0.5
            let visible = sightings.filter { $0.seenAt <= lastLook }
            let count = DeviceRequestCount(sightings: visible, heldUntil: lastLook, interval: .seconds(10))
            let madeByLastLook = Int((lastLook / 10).rounded(.down)) + 1
            #expect(count.total <= made, "let go at \(lettingGo): \(count.total) > \(made)")
            #expect(visible.isEmpty || count.total >= madeByLastLook - 1, "let go at \(lettingGo): \(count.total) < \(madeByLastLook) - 1")
        }
    }
}
