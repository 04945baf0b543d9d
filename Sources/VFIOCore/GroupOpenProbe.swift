#if canImport(Glibc)
import Glibc
#endif

/// Asks the kernel whether anyone holds a VFIO group, by opening its node: O(1), where a scan of
/// `/proc/*/fd` reads every process's descriptor table (5–15 ms in the lab's TCG guest).
///
/// What it relies on (`drivers/vfio/group.c`, `vfio_group_fops_open`): a group node can be open in one file
/// only — a second open fails with `EBUSY` — and every device fd got from the group
/// (`VFIO_GROUP_GET_DEVICE_FD`) keeps a reference on that file, so a holder that closed its group fd but
/// kept a device fd still holds it. Since Linux 6.6 the open also fails with `EBUSY` while a device of the
/// group is bound to iommufd through its cdev. A cdev opened but not bound does not show this way, which is
/// why callers with cdevs to ask about scan instead.
///
/// The probe's own open lasts two system calls; an opener arriving in between gets `EBUSY`. Callers use it
/// only where vfiod is about to take the group from its holder (a release) or to open it itself (a reset).
public enum GroupOpenProbe {
    /// True only when `node` is a character device that opened and closed cleanly: nobody holds the group.
    /// Any other answer (`EBUSY`, no node, not a character device — a fake tree's regular file —,
    /// permission, a no-IOMMU group's `EPERM`) is false: the caller must scan. Blocking, but brief: the
    /// kernel takes the group's lock for a few instructions.
    public static func isUnheld(_ node: String) -> Bool {
        // open(2) on a VFIO group node runs vfio_group_fops_open, which claims the group's one open file or
        // fails with EBUSY; O_NONBLOCK keeps a FIFO planted in a fake tree from blocking us. The close
        // below runs vfio_group_fops_release, which only drops that claim: no container or iommufd was set.
        let fd = open(node, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var status = stat()
        // fstat(2) on the fd just opened: its mode says whether the kernel's node is a character device.
        guard fstat(fd, &status) == 0 else { return false }
        return status.st_mode & S_IFMT == S_IFCHR
    }

    /// True when every one of `groups` is a group nobody holds (``isUnheld(_:)``); false for no groups.
    public static func areUnheld(_ groups: [Int], paths: HostPaths) -> Bool {
        !groups.isEmpty && groups.allSatisfy { isUnheld(paths.dev("vfio/\($0)")) }
    }
}
