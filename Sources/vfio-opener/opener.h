/*
 * vfio-opener: a test-support program that holds one PCI device through VFIO and answers the kernel's
 * "device request" (cooperative unbind). Shared declarations of the four source files:
 *   options.c  command line and usage text
 *   report.c   the machine-readable lines on stdout and the error lines on stderr
 *   attach.c   opening the device: legacy group/container path and device cdev + iommufd path
 *   main.c     the request eventfd, signals, the poll loop and the release order
 */
#ifndef VFIO_OPENER_H
#define VFIO_OPENER_H

#include <stdint.h>

/* Exit status, one per stage, so a caller can tell where an opener gave up without parsing stderr. */
enum opener_exit {
    OPENER_EXIT_OK = 0,          /* released after a request, a signal or --hold-seconds */
    OPENER_EXIT_USAGE = 2,       /* bad command line */
    OPENER_EXIT_CONTAINER = 3,   /* /dev/vfio/vfio: open, API version, TYPE1v2 extension */
    OPENER_EXIT_GROUP = 4,       /* /dev/vfio/N: open, status, viability */
    OPENER_EXIT_IOMMU = 5,       /* SET_CONTAINER + SET_IOMMU, or /dev/iommu + IOAS_ALLOC */
    OPENER_EXIT_DEVICE = 6,      /* GET_DEVICE_FD, or cdev open + BIND_IOMMUFD + ATTACH_IOMMUFD_PT */
    OPENER_EXIT_REQUEST_IRQ = 7, /* GET_IRQ_INFO, eventfd, SET_IRQS on the request index */
    OPENER_EXIT_EVENT_LOOP = 8,  /* signals, signalfd, poll, reads, writing stdout */
    OPENER_EXIT_BROKER = 9,      /* --uid, --broker: dropping privileges, the holder socket, a refusal */
};

/* What to do when the kernel relays a device request. */
enum opener_on_request { OPENER_ON_REQUEST_CLOSE, OPENER_ON_REQUEST_IGNORE };

/* The parsed command line. */
struct opener_options {
    const char *host_root;              /* "" for the real root; never ends in '/' */
    int has_group;                      /* legacy path chosen with --group */
    unsigned long group;                /* --group N */
    const char *device;                 /* --device ADDR (legacy path only) */
    const char *cdev;                   /* --cdev PATH (cdev path only) */
    enum opener_on_request on_request;  /* --on-request, default close */
    long hold_seconds;                  /* --hold-seconds, -1 for no limit */
    int simulated;                      /* --simulated: plain files of vfiod's simulator, no ioctls */
    const char *broker;                 /* --broker SOCKET: fetch the descriptors from vfiod's holder socket */
    const char *assignment;             /* --assignment ID (with --broker) */
    long long generation;               /* --generation N (with --broker) */
    int has_uid;                        /* --uid given */
    unsigned long uid;                  /* --uid U: run as uid and gid U, no supplementary groups */
};

/* Every fd the opener owns, -1 when not open. */
struct opener_fds {
    int container, group, device, iommufd, request, signals;
    uint32_t devid, ioas; /* cdev path: the iommufd device id and the IOAS the device is attached to */
    char fifo[4096];      /* --simulated: the request FIFO to remove on release, "" when none */
};

/* options.c */
/* Parses argv. Returns 0 when `out` is ready, -1 after printing the usage for --help (exit 0),
 * or OPENER_EXIT_USAGE after printing a usage error on stderr. */
int opener_parse_options(int argc, char **argv, struct opener_options *out);

/* report.c */
/* Writes one formatted line (a '\n' is appended) to stdout with write(2), so it is flushed at once.
 * Returns 0, or -1 with errno set. */
int opener_emit(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* Writes `error op=OP errno=N (NAME)` on stderr; for failures that are not a syscall's, `err` is 0 and
 * `reason` replaces the errno name. Returns `code` so that callers can `return opener_fail(...)`. */
int opener_fail(int code, const char *op, int err, const char *reason);
/* Milliseconds on CLOCK_MONOTONIC. */
int64_t opener_now_ms(void);

/* attach.c */
/* Legacy path: container, group, TYPE1v2, device fd. Returns 0 or a OPENER_EXIT_* code (error printed). */
int opener_attach_group(const struct opener_options *options, struct opener_fds *fds);
/* cdev path: device cdev, /dev/iommu, bind, IOAS, attach. Returns 0 or a OPENER_EXIT_* code. */
int opener_attach_cdev(const struct opener_options *options, struct opener_fds *fds);
/* --simulated: opens the group file (or the cdev) under --host-root without any ioctl, and creates and opens
 * the request FIFO <root>/.vfiod-simulator/requests/<ADDR>.<pid> as the request fd. Returns 0 or a code. */
int opener_attach_simulated(const struct opener_options *options, struct opener_fds *fds);
/* Legacy path on open group and container fds: checks, SET_CONTAINER, SET_IOMMU, GET_DEVICE_FD. */
int opener_attach_group_fds(const struct opener_options *options, struct opener_fds *fds);
/* cdev path on open device and iommufd fds: BIND_IOMMUFD, IOAS_ALLOC, ATTACH_IOMMUFD_PT. */
int opener_attach_cdev_fds(struct opener_fds *fds);
/* --simulated: creates and opens the request FIFO <root>/.vfiod-simulator/requests/<ADDR>.<pid>. */
int opener_open_request_fifo(const struct opener_options *options, struct opener_fds *fds);

/* broker.c */
/* --uid: setgroups(0), setresgid, setresuid. Returns 0 or OPENER_EXIT_BROKER (error printed). */
int opener_drop_privileges(const struct opener_options *options);
/* --broker: fetches the lease's descriptors: iommufd and the --device's cdev, or group and container.
 * Prints one `fd kind=… dev=MAJ:MIN ino=N` line per descriptor, or `refused code=CODE`. */
int opener_fetch_from_broker(const struct opener_options *options, struct opener_fds *fds);

/* Closes device, group, container, iommufd (in that order), then the request eventfd and the signalfd;
 * removes the simulated request FIFO. */
void opener_release(struct opener_fds *fds);

#endif
