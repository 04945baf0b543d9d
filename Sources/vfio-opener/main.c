/* vfio-opener: holds one VFIO device and answers the kernel's device request. See README.md and --help. */
#define _GNU_SOURCE
#include "opener.h"

#include <CVFIO.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* Blocks SIGTERM and SIGINT and opens a signalfd for them, so they arrive as poll events (a signal during
 * setup waits until the loop). SIGPIPE is ignored: a lost stdout reader shows up as a write error. */
static int open_signalfd(struct opener_fds *fds) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) return opener_fail(OPENER_EXIT_EVENT_LOOP, "sigprocmask", errno, NULL);
    signal(SIGPIPE, SIG_IGN);
    fds->signals = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fds->signals < 0) return opener_fail(OPENER_EXIT_EVENT_LOOP, "signalfd", errno, NULL);
    return 0;
}

/* Registers a new eventfd as the trigger of the device's request IRQ. */
static int register_request_eventfd(struct opener_fds *fds) {
    /* VFIO_DEVICE_GET_IRQ_INFO reads argsz and index of struct vfio_irq_info and fills flags and count;
     * vfio-pci reports VFIO_PCI_REQ_IRQ_INDEX with count 1 and the EVENTFD flag (kernel >= 4.0). */
    struct vfio_irq_info info = { .argsz = sizeof info, .index = CVFIO_PCI_REQ_IRQ_INDEX };
    if (ioctl(fds->device, CVFIO_DEVICE_GET_IRQ_INFO, &info) < 0)
        return opener_fail(OPENER_EXIT_REQUEST_IRQ, "VFIO_DEVICE_GET_IRQ_INFO", errno, NULL);
    if (info.count < 1 || !(info.flags & CVFIO_IRQ_INFO_EVENTFD))
        return opener_fail(OPENER_EXIT_REQUEST_IRQ, "VFIO_DEVICE_GET_IRQ_INFO", 0, "no-request-irq");

    fds->request = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fds->request < 0) return opener_fail(OPENER_EXIT_REQUEST_IRQ, "eventfd", errno, NULL);

    /* VFIO_DEVICE_SET_IRQS reads struct vfio_irq_set followed by `count` __s32 eventfds (DATA_EVENTFD);
     * with ACTION_TRIGGER on the request index the kernel keeps a reference to the eventfd and signals it
     * on every relayed device request, until the device fd is closed or the trigger set to -1. */
    union {
        struct vfio_irq_set set;
        unsigned char bytes[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
    } request;
    memset(&request, 0, sizeof request);
    request.set.argsz = sizeof request.bytes;
    request.set.flags = CVFIO_IRQ_SET_DATA_EVENTFD | CVFIO_IRQ_SET_ACTION_TRIGGER;
    request.set.index = CVFIO_PCI_REQ_IRQ_INDEX;
    request.set.start = 0;
    request.set.count = 1;
    int32_t eventfd_number = fds->request;
    memcpy(request.bytes + sizeof(struct vfio_irq_set), &eventfd_number, sizeof eventfd_number);
    if (ioctl(fds->device, CVFIO_DEVICE_SET_IRQS, &request.set) < 0)
        return opener_fail(OPENER_EXIT_REQUEST_IRQ, "VFIO_DEVICE_SET_IRQS", errno, NULL);
    return 0;
}

/* VFIO_DEVICE_GET_INFO reads argsz of struct vfio_device_info (argsz, flags, num_regions, num_irqs) and
 * fills the rest; vfio-pci sets VFIO_DEVICE_FLAGS_PCI and reports 9 regions and 5 IRQ indexes. */
static int query_device(struct opener_fds *fds) {
    struct vfio_device_info info = { .argsz = sizeof info };
    if (ioctl(fds->device, CVFIO_DEVICE_GET_INFO, &info) < 0)
        return opener_fail(OPENER_EXIT_DEVICE, "VFIO_DEVICE_GET_INFO", errno, NULL);
    if (opener_emit("info flags=0x%x regions=%u irqs=%u", info.flags, info.num_regions, info.num_irqs) < 0)
        return opener_fail(OPENER_EXIT_EVENT_LOOP, "write-stdout", errno, NULL);
    return 0;
}

/* --broker on a real kernel: the fetched descriptors made usable the way QEMU does (bind the cdev to the
 * iommufd and attach it to a new IOAS; or put the group in the container and get the device fd), then
 * queried, then the request eventfd registered. */
static int attach_fetched(const struct opener_options *options, struct opener_fds *fds) {
    int code = fds->iommufd >= 0 ? opener_attach_cdev_fds(fds) : opener_attach_group_fds(options, fds);
    if (code == 0) code = query_device(fds);
    if (code == 0) code = register_request_eventfd(fds);
    return code;
}

static const char *signal_name(uint32_t number) {
    return number == SIGTERM ? "TERM" : number == SIGINT ? "INT" : "OTHER";
}

/* Waits for requests, signals or the deadline; returns 0 with `reason` set, or an exit code after an error. */
static int run_loop(const struct opener_options *options, struct opener_fds *fds, int64_t ready_ms, char *reason, size_t size) {
    uint64_t requests = 0;
    int64_t deadline = options->hold_seconds >= 0 ? ready_ms + (int64_t)options->hold_seconds * 1000 : -1;
    for (;;) {
        int timeout = -1;
        if (deadline >= 0) {
            int64_t left = deadline - opener_now_ms();
            timeout = left > 0 ? (int)left : 0;
        }
        struct pollfd watched[2] = { { .fd = fds->request, .events = POLLIN }, { .fd = fds->signals, .events = POLLIN } };
        int ready = poll(watched, 2, timeout);
        if (ready < 0) {
            if (errno == EINTR) continue;
            return opener_fail(OPENER_EXIT_EVENT_LOOP, "poll", errno, NULL);
        }
        if (ready == 0) {
            snprintf(reason, size, "hold-seconds requests=%llu", (unsigned long long)requests);
            return 0;
        }
        if (watched[0].revents & POLLIN) {
            /* An eventfd read returns the 8-byte counter (requests since the last read) and resets it. */
            uint64_t count = 0;
            ssize_t got = read(fds->request, &count, sizeof count);
            if (got < 0 && errno != EAGAIN && errno != EINTR)
                return opener_fail(OPENER_EXIT_EVENT_LOOP, "read-eventfd", errno, NULL);
            if (got == (ssize_t)sizeof count) {
                requests += count;
                if (opener_emit("request n=%llu t=%lldms", (unsigned long long)requests,
                                (long long)(opener_now_ms() - ready_ms)) < 0)
                    return opener_fail(OPENER_EXIT_EVENT_LOOP, "write-stdout", errno, NULL);
                if (options->on_request == OPENER_ON_REQUEST_CLOSE) {
                    snprintf(reason, size, "request requests=%llu", (unsigned long long)requests);
                    return 0;
                }
            }
        }
        if (watched[1].revents & POLLIN) {
            struct signalfd_siginfo info;
            ssize_t got = read(fds->signals, &info, sizeof info);
            if (got < 0 && errno != EAGAIN && errno != EINTR)
                return opener_fail(OPENER_EXIT_EVENT_LOOP, "read-signalfd", errno, NULL);
            if (got == (ssize_t)sizeof info) {
                snprintf(reason, size, "signal sig=%s requests=%llu", signal_name(info.ssi_signo), (unsigned long long)requests);
                return 0;
            }
        }
        if ((watched[0].revents | watched[1].revents) & (POLLERR | POLLNVAL))
            return opener_fail(OPENER_EXIT_EVENT_LOOP, "poll", EBADF, NULL);
    }
}

int main(int argc, char **argv) {
    struct opener_options options;
    int parsed = opener_parse_options(argc, argv, &options);
    if (parsed < 0) return OPENER_EXIT_OK;
    if (parsed > 0) return parsed;

    struct opener_fds fds = { .container = -1, .group = -1, .device = -1, .iommufd = -1, .request = -1, .signals = -1, .fifo = "" };
    int code = opener_drop_privileges(&options);
    if (code == 0) code = open_signalfd(&fds);
    if (code == 0 && options.broker != NULL) {
        code = opener_fetch_from_broker(&options, &fds);
        if (code == 0 && options.simulated) code = opener_open_request_fifo(&options, &fds);
        else if (code == 0) code = attach_fetched(&options, &fds);
    } else if (code == 0 && options.simulated) {
        code = opener_attach_simulated(&options, &fds);
    } else if (code == 0) {
        code = options.cdev != NULL ? opener_attach_cdev(&options, &fds) : opener_attach_group(&options, &fds);
        if (code == 0) code = register_request_eventfd(&fds);
    }
    if (code != 0) {
        opener_release(&fds);
        return code;
    }

    const char *on_request = options.on_request == OPENER_ON_REQUEST_CLOSE ? "close" : "ignore";
    int written = options.broker != NULL
        ? opener_emit("ready pid=%d broker assignment=%s device=%s path=%s on-request=%s", (int)getpid(), options.assignment,
                      options.device, fds.iommufd >= 0 ? "cdev" : "group", on_request)
        : options.cdev != NULL
        ? opener_emit("ready pid=%d cdev=%s devid=%u ioas=%u on-request=%s", (int)getpid(), options.cdev, fds.devid, fds.ioas, on_request)
        : opener_emit("ready pid=%d group=%lu device=%s on-request=%s", (int)getpid(), options.group, options.device, on_request);
    int64_t ready_ms = opener_now_ms();
    char reason[128] = "";
    code = written < 0 ? opener_fail(OPENER_EXIT_EVENT_LOOP, "write-stdout", errno, NULL)
                       : run_loop(&options, &fds, ready_ms, reason, sizeof reason);
    opener_release(&fds);
    if (code != 0) return code;
    if (opener_emit("closed") < 0 || opener_emit("exit reason=%s", reason) < 0) return OPENER_EXIT_EVENT_LOOP;
    return OPENER_EXIT_OK;
}
