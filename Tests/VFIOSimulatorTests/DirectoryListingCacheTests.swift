import Foundation
import Testing
import VFIOCore
@testable import VFIOSimulator

/// A group's members are listed again whenever another process adds, removes or renames an entry of
/// `sys/kernel/iommu_groups/<N>/devices`, however soon after the last listing.
struct DirectoryListingCacheTests {
    @Test func groupMembersSeeEveryChangeAnotherProcessMakes() throws {
        let scratch = try ScratchDirectory()
        try SysfsTreeBuilder(root: scratch.path).build(SimulatedBindTests.lab())
        // Settled at once: only the directory's version protects the listing.
        let cache = DirectoryListingCache(settleSeconds: 0)
        let tree = SimulatedTree(root: SysfsFiles.normalize(scratch.path), groupListings: cache)
        let devices = tree.paths.sys("kernel/iommu_groups/7/devices")
        let members = [pci("0000:00:1c.0"), pci("0000:03:00.0"), pci("0000:03:00.1")]
        #expect(tree.groupMembers(7) == members)
        #expect(tree.groupMembers(7) == members)
        #expect(cache.listings == 1, "the unchanged directory is not listed again")

        try shell("ln -s ../../../../devices/pci0000:00/0000:00:1c.0/0000:03:00.1 '\(devices)/0000:03:00.2'")
        #expect(tree.groupMembers(7) == members + [pci("0000:03:00.2")])
        try shell("mv '\(devices)/0000:03:00.2' '\(devices)/0000:03:00.3'")
        #expect(tree.groupMembers(7) == members + [pci("0000:03:00.3")])
        try shell("rm '\(devices)/0000:03:00.3' '\(devices)/0000:03:00.1'")
        #expect(tree.groupMembers(7) == Array(members.prefix(2)))
        #expect(cache.listings == 4)

        // Without the directory: the members come from the devices' iommu_group links, as SysfsQueries does.
        try shell("rm -r '\(tree.paths.sys("kernel/iommu_groups/2"))'")
        #expect(tree.groupMembers(2) == [pci("0000:01:00.0")])
    }

    @Test func aFreshDirectoryIsListedEveryTime() throws {
        let scratch = try ScratchDirectory()
        try SysfsTreeBuilder(root: scratch.path).build(SimulatedBindTests.lab())
        let cache = DirectoryListingCache()
        let tree = SimulatedTree(root: SysfsFiles.normalize(scratch.path), groupListings: cache)
        #expect(tree.groupMembers(2) == [pci("0000:01:00.0")])
        #expect(tree.groupMembers(2) == [pci("0000:01:00.0")])
        #expect(cache.listings == 2, "written moments ago: a change within the same clock tick must not be missed")
    }
}
