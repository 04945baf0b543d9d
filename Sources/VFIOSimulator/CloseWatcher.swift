#if canImport(Glibc)
import Glibc
#endif

/// Wakes a waiting thread when one of some files is closed by any process (inotify `IN_CLOSE_WRITE |
/// IN_CLOSE_NOWRITE`), or when a timeout passes: how a simulated unbind notices that its opener let go
/// without polling. Without inotify (limits reached) it only waits for the timeout.
final class CloseWatcher {
    private let fd: Int32

    /// Watches `files` (missing ones are left out). Create it before checking the condition the closes
    /// change: a close between the check and ``wait(milliseconds:)`` is queued and ends the wait at once.
    init(files: [String]) {
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { return }
        for file in files {
            _ = inotify_add_watch(fd, file, UInt32(IN_CLOSE_WRITE | IN_CLOSE_NOWRITE))
        }
    }

    deinit { if fd >= 0 { _ = close(fd) } }

    /// Blocks until a watched file is closed or `milliseconds` pass, then drains the queued events.
    func wait(milliseconds: Int32) {
        var watched = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        // poll(2) on our inotify fd (or on nothing, a plain timed wait, when inotify is unavailable);
        // EINTR just ends this wait early, and the caller re-checks.
        _ = poll(&watched, fd >= 0 ? 1 : 0, milliseconds)
        guard fd >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress!, $0.count) }) > 0 {}
    }
}
