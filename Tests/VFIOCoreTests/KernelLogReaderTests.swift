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
