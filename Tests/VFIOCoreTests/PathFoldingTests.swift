import Testing
@testable import VFIOCore

/// `SysfsFiles.normalize` folds ASCII paths on their bytes: the same answers as folding by characters,
/// which it still does for anything else.
struct PathFoldingTests {
    @Test func foldingOnBytesGivesWhatFoldingByCharactersGives() {
        let examples = ["/", "", "//", "/.", "/..", "/../..", "a", "a/b", "/a/./b//c/", "/sys/bus/pci/devices/../../../devices/pci0000:00/0000:00:01.0",
                        "/sys/bus/pci/devices/0000:05:00.0/../../x/./y", "/a/b/../../../c", "/a/.../b", "/a/..b/.c/", "./a/../b"]
        for path in examples {
            #expect(SysfsFiles.normalize(path) == SysfsFiles.normalizeCharacters(path), "\(path)")
        }
        #expect(SysfsFiles.normalize("/sys/bus/pci/devices/../../../devices/pci0000:00/0000:00:01.0") == "/sys/devices/pci0000:00/0000:00:01.0")
        // Paths made of the characters that matter, at random.
        var generator = SystemRandomNumberGenerator()
        let pieces = ["/", "/", ".", ".", "a", "b0"]
        for _ in 0..<2000 {
            let path = (0..<Int.random(in: 0...14, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            #expect(SysfsFiles.normalize(path) == SysfsFiles.normalizeCharacters(path), "\(path)")
        }
    }

    @Test func aPathThatIsNotASCIIIsFoldedByCharacters() {
        // U+0301 after a slash makes one character of the two: no separator there when folding by characters.
        // Folded on bytes, "/a/\u{301}/../b" would give "/a/b".
        #expect(SysfsFiles.normalize("/a/\u{301}/../b") == "/b")
        for path in ["/é/../f", "/a/\u{301}../b"] {
            #expect(SysfsFiles.normalize(path) == SysfsFiles.normalizeCharacters(path), "\(path)")
        }
    }
}
