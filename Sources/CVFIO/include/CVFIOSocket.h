#ifndef CVFIO_SOCKET_H
#define CVFIO_SOCKET_H

/*
 * Passing VFIO descriptors over a Unix stream socket (the holder socket): one sendmsg(2) carries a line
 * of JSON and, as one SCM_RIGHTS control message, the descriptors; the receiver gets them in the same
 * order. CMSG_* are macros Swift cannot import, so both directions are static inline C here, shared by
 * vfiod (through Swift) and vfio-opener.
 */

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* accept4(2) and pipe2(2) are declared by glibc only under _GNU_SOURCE, which Swift's Glibc module is not
 * built with; their prototypes are the kernel's system call ABI. O_PATH is the value of every Linux
 * architecture vfiod builds for (x86_64, aarch64: asm-generic/fcntl.h). */
extern int accept4(int socket, struct sockaddr *address, socklen_t *length, int flags);
extern int pipe2(int fds[2], int flags);
static const int CVFIO_O_PATH = 010000000;

/* Accepts one connection on `socket`, non-blocking and close-on-exec from the start (no window in which
 * a forked child could inherit it). Returns the fd or -1 with errno. */
static inline int cvfio_accept_nonblocking(int socket) {
    return accept4(socket, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/* A pipe whose two ends are non-blocking and close-on-exec. Returns 0 or -1 with errno. */
static inline int cvfio_pipe_nonblocking(int fds[2]) {
    return pipe2(fds, O_NONBLOCK | O_CLOEXEC);
}

/* The most descriptors one message carries (the kernel's SCM_MAX_FD is 253). */
#define CVFIO_SOCKET_MAX_FDS 64

/* Sends `length` bytes with `count` descriptors (0..CVFIO_SOCKET_MAX_FDS) attached to the same message,
 * MSG_DONTWAIT | MSG_NOSIGNAL: it never blocks and never raises SIGPIPE. Returns the bytes sent, or -1
 * with errno. Assumes `fds` points at `count` open descriptors; the kernel duplicates them into the
 * message (the caller still owns and closes its own) and copies the buffers during the call. */
static inline long cvfio_send_with_fds(int socket, const void *bytes, size_t length, const int *fds, int count) {
    if (count < 0 || count > CVFIO_SOCKET_MAX_FDS) { errno = EINVAL; return -1; }
    union {
        struct cmsghdr header;
        char space[CMSG_SPACE(sizeof(int) * CVFIO_SOCKET_MAX_FDS)];
    } control;
    memset(&control, 0, sizeof control);
    struct iovec vector = { .iov_base = (void *)bytes, .iov_len = length };
    struct msghdr message = { .msg_iov = &vector, .msg_iovlen = 1 };
    if (count > 0) {
        message.msg_control = control.space;
        message.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)count);
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)count);
        memcpy(CMSG_DATA(header), fds, sizeof(int) * (size_t)count);
    }
    return (long)sendmsg(socket, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Receives up to `capacity` bytes and the descriptors attached to them (MSG_CMSG_CLOEXEC: each arrives
 * close-on-exec) into `fds` (room for CVFIO_SOCKET_MAX_FDS), their number in `*count`. Blocks unless the
 * socket is non-blocking. Returns the bytes received (0 at end of stream) or -1 with errno; `*count` is
 * set either way. MSG_CTRUNC (more descriptors than room) is EMSGSIZE, with every one received closed. */
static inline long cvfio_receive_with_fds(int socket, void *bytes, size_t capacity, int *fds, int *count) {
    union {
        struct cmsghdr header;
        char space[CMSG_SPACE(sizeof(int) * CVFIO_SOCKET_MAX_FDS)];
    } control;
    memset(&control, 0, sizeof control);
    struct iovec vector = { .iov_base = bytes, .iov_len = capacity };
    struct msghdr message = { .msg_iov = &vector, .msg_iovlen = 1, .msg_control = control.space,
                              .msg_controllen = sizeof control.space };
    *count = 0;
    ssize_t got = recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
    if (got < 0) return -1;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header != NULL; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
        int n = (int)((header->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < n && *count < CVFIO_SOCKET_MAX_FDS; i++) memcpy(&fds[(*count)++], CMSG_DATA(header) + sizeof(int) * (size_t)i, sizeof(int));
    }
    if (message.msg_flags & MSG_CTRUNC) {
        while (*count > 0) close(fds[--(*count)]);
        errno = EMSGSIZE;
        return -1;
    }
    return (long)got;
}

#endif
