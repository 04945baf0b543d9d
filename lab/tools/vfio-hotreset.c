/* vfio-hotreset: a lab probe (not part of the service). Opens a device through the legacy group path and
 * prints what the kernel says about resetting it: the device's flags, the hot-reset scope
 * (VFIO_DEVICE_GET_PCI_HOT_RESET_INFO) and, with --reset, the outcome and duration of VFIO_DEVICE_RESET and
 * of VFIO_DEVICE_PCI_HOT_RESET with every group fd given. Built static by lab/run; run by lab/probe.sh.
 *
 *   vfio-hotreset --device ADDR --group N [--group M]... [--reset]
 *
 * The first --group must hold ADDR; further groups are the other groups of the reset's scope (proof of
 * ownership for the hot reset). Every fd is close-on-exec. Output: one `key: value` line per fact. */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_GROUPS 8

static long elapsed_ms(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

static int fail(const char *what) {
    printf("error: %s: errno %d (%s)\n", what, errno, strerror(errno));
    return 1;
}

int main(int argc, char **argv) {
    const char *device = NULL;
    int groups[MAX_GROUPS], group_count = 0, reset = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--device") && i + 1 < argc) device = argv[++i];
        else if (!strcmp(argv[i], "--group") && i + 1 < argc && group_count < MAX_GROUPS) groups[group_count++] = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reset")) reset = 1;
        else { fprintf(stderr, "usage: vfio-hotreset --device ADDR --group N [--group M]... [--reset]\n"); return 2; }
    }
    if (!device || group_count == 0) { fprintf(stderr, "vfio-hotreset: --device and --group are required\n"); return 2; }

    int container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
    if (container < 0) return fail("open /dev/vfio/vfio");
    int group_fds[MAX_GROUPS];
    for (int g = 0; g < group_count; g++) {
        char path[64];
        snprintf(path, sizeof path, "/dev/vfio/%d", groups[g]);
        group_fds[g] = open(path, O_RDWR | O_CLOEXEC);
        if (group_fds[g] < 0) return fail(path);
        /* VFIO_GROUP_GET_STATUS fills struct vfio_group_status; VIABLE: every member is VFIO-compatible. */
        struct vfio_group_status status = { .argsz = sizeof status };
        if (ioctl(group_fds[g], VFIO_GROUP_GET_STATUS, &status) < 0) return fail("VFIO_GROUP_GET_STATUS");
        printf("group %d: viable=%s\n", groups[g], (status.flags & VFIO_GROUP_FLAGS_VIABLE) ? "yes" : "no");
        if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) return 1;
        /* VFIO_GROUP_SET_CONTAINER reads the container fd through the pointer. */
        if (ioctl(group_fds[g], VFIO_GROUP_SET_CONTAINER, &container) < 0) return fail("VFIO_GROUP_SET_CONTAINER");
        /* VFIO_SET_IOMMU takes the type by value; it needs a group in the container (set just above). */
        if (g == 0 && ioctl(container, VFIO_SET_IOMMU, (unsigned long)VFIO_TYPE1v2_IOMMU) < 0) return fail("VFIO_SET_IOMMU");
    }
    /* VFIO_GROUP_GET_DEVICE_FD reads the NUL-terminated address and returns a new (close-on-exec) fd. */
    int fd = ioctl(group_fds[0], VFIO_GROUP_GET_DEVICE_FD, device);
    if (fd < 0) return fail("VFIO_GROUP_GET_DEVICE_FD");

    /* VFIO_DEVICE_GET_INFO fills struct vfio_device_info (argsz, flags, num_regions, num_irqs). */
    struct vfio_device_info info = { .argsz = sizeof info };
    if (ioctl(fd, VFIO_DEVICE_GET_INFO, &info) < 0) return fail("VFIO_DEVICE_GET_INFO");
    printf("device %s: flags=0x%x reset-flag=%s regions=%u irqs=%u\n", device, info.flags,
           (info.flags & VFIO_DEVICE_FLAGS_RESET) ? "yes" : "no", info.num_regions, info.num_irqs);

    /* VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: struct vfio_pci_hot_reset_info followed by `count` struct
     * vfio_pci_dependent_device entries; with too small a count it fails with ENOSPC and writes the count
     * needed. ENOTTY/ENODEV-like errors mean no bus or slot reset is possible. Entry layout (6.1 headers):
     * group_id, segment, bus, devfn; on 6.6+ with FLAG_DEV_ID the first field is a devid instead. */
    size_t size = sizeof(struct vfio_pci_hot_reset_info) + 32 * sizeof(struct vfio_pci_dependent_device);
    struct vfio_pci_hot_reset_info *hot = calloc(1, size);
    hot->argsz = (uint32_t)size;
    if (ioctl(fd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, hot) < 0) {
        printf("hot-reset-info: error errno %d (%s)\n", errno, strerror(errno));
    } else {
        printf("hot-reset-info: flags=0x%x count=%u scope:", hot->flags, hot->count);
        for (uint32_t i = 0; i < hot->count; i++) {
            struct vfio_pci_dependent_device *d = &hot->devices[i];
            printf(" %04x:%02x:%02x.%x(group %u)", d->segment, d->bus, d->devfn >> 3, d->devfn & 7, d->group_id);
        }
        printf("\n");
    }
    if (!reset) return 0;

    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    /* VFIO_DEVICE_RESET takes no argument: the per-function reset (FLR, PM, or bus when alone). */
    if (ioctl(fd, VFIO_DEVICE_RESET) < 0) printf("function-reset: error errno %d (%s) after %ld ms\n", errno, strerror(errno), elapsed_ms(&start));
    else printf("function-reset: ok after %ld ms\n", elapsed_ms(&start));

    /* VFIO_DEVICE_PCI_HOT_RESET: struct vfio_pci_hot_reset (argsz, flags, count) followed by `count` group
     * fds that must cover every group of the scope; EINVAL when one is missing or not resettable. */
    size_t reset_size = sizeof(struct vfio_pci_hot_reset) + (size_t)group_count * sizeof(int32_t);
    struct vfio_pci_hot_reset *request = calloc(1, reset_size);
    request->argsz = (uint32_t)reset_size;
    request->count = (uint32_t)group_count;
    for (int g = 0; g < group_count; g++) request->group_fds[g] = group_fds[g];
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (ioctl(fd, VFIO_DEVICE_PCI_HOT_RESET, request) < 0) printf("hot-reset: error errno %d (%s) after %ld ms\n", errno, strerror(errno), elapsed_ms(&start));
    else printf("hot-reset: ok after %ld ms\n", elapsed_ms(&start));
    return 0;
}
