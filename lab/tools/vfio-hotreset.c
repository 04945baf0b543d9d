/* vfio-hotreset: a lab probe (not part of the service). Opens a device through VFIO and prints what the
 * kernel says about resetting it: the device's flags, the hot-reset scope (VFIO_DEVICE_GET_PCI_HOT_RESET_INFO)
 * and, with --reset, the outcome and duration of VFIO_DEVICE_RESET and VFIO_DEVICE_PCI_HOT_RESET.
 * Built static by lab/run; run by lab/probe.sh.
 *
 *   vfio-hotreset --device ADDR --group N [--group M]... [--reset]
 *   vfio-hotreset --cdev /dev/vfio/devices/vfioX [--cdev PATH]... [--reset]
 *
 * Group path: the first --group must hold ADDR; the hot reset passes the fds of every group given (the
 * proof of ownership of the scope). Cdev path (kernel >= 6.6 with iommufd): every cdev is bound to one
 * iommufd and attached to one IOAS; the first is queried and reset, and the hot reset passes no group fd
 * (ownership is proven through the iommufd, so the other cdevs of the scope must be given too).
 * Every fd is close-on-exec. Output: one `key: value` line per fact; exit 1 when the device cannot be opened. */
#include <CVFIO.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS 8

static long elapsed_ms(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

static int fail(const char *what) {
    printf("error: %s: errno %d (%s)\n", what, errno, strerror(errno));
    return -1;
}

/* Legacy path: one container, every group in it, the device fd of ADDR from the first group. Fills
 * group_fds; returns the device fd or -1. */
static int open_group_device(const char *device, const int *groups, int count, int *group_fds) {
    int container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
    if (container < 0) return fail("open /dev/vfio/vfio");
    for (int g = 0; g < count; g++) {
        char path[64];
        snprintf(path, sizeof path, "/dev/vfio/%d", groups[g]);
        group_fds[g] = open(path, O_RDWR | O_CLOEXEC);
        if (group_fds[g] < 0) return fail(path);
        /* VFIO_GROUP_GET_STATUS fills struct vfio_group_status; VIABLE: every member is VFIO-compatible. */
        struct vfio_group_status status = { .argsz = sizeof status };
        if (ioctl(group_fds[g], CVFIO_GROUP_GET_STATUS, &status) < 0) return fail("VFIO_GROUP_GET_STATUS");
        printf("group %d: viable=%s\n", groups[g], (status.flags & CVFIO_GROUP_FLAGS_VIABLE) ? "yes" : "no");
        if (!(status.flags & CVFIO_GROUP_FLAGS_VIABLE)) return -1;
        /* VFIO_GROUP_SET_CONTAINER reads the container fd through the pointer. */
        if (ioctl(group_fds[g], CVFIO_GROUP_SET_CONTAINER, &container) < 0) return fail("VFIO_GROUP_SET_CONTAINER");
        /* VFIO_SET_IOMMU takes the type by value; it needs a group in the container (set just above). */
        if (g == 0 && ioctl(container, CVFIO_SET_IOMMU, (unsigned long)CVFIO_TYPE1v2_IOMMU) < 0) return fail("VFIO_SET_IOMMU");
    }
    /* VFIO_GROUP_GET_DEVICE_FD reads the NUL-terminated address and returns a new (close-on-exec) fd. */
    int fd = ioctl(group_fds[0], CVFIO_GROUP_GET_DEVICE_FD, device);
    if (fd < 0) return fail("VFIO_GROUP_GET_DEVICE_FD");
    return fd;
}

/* Cdev path: every cdev bound to one new iommufd and attached to one new IOAS; returns the first device
 * fd or -1. */
static int open_cdevs(const char **cdevs, int count) {
    int iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
    if (iommufd < 0) return fail("open /dev/iommu");
    /* IOMMU_IOAS_ALLOC reads struct iommu_ioas_alloc (size, flags = 0) and writes out_ioas_id. */
    struct cvfio_iommu_ioas_alloc alloc = { .size = sizeof alloc };
    if (ioctl(iommufd, CVFIO_IOMMU_IOAS_ALLOC, &alloc) < 0) return fail("IOMMU_IOAS_ALLOC");
    int first = -1;
    for (int i = 0; i < count; i++) {
        int fd = open(cdevs[i], O_RDWR | O_CLOEXEC);
        if (fd < 0) return fail(cdevs[i]);
        /* VFIO_DEVICE_BIND_IOMMUFD reads struct vfio_device_bind_iommufd as of 6.6 and writes out_devid. */
        struct cvfio_device_bind_iommufd bind = { .argsz = sizeof bind, .iommufd = iommufd };
        if (ioctl(fd, CVFIO_DEVICE_BIND_IOMMUFD, &bind) < 0) return fail("VFIO_DEVICE_BIND_IOMMUFD");
        /* VFIO_DEVICE_ATTACH_IOMMUFD_PT reads struct vfio_device_attach_iommufd_pt as of 6.6 (pt_id). */
        struct cvfio_device_attach_iommufd_pt attach = { .argsz = sizeof attach, .pt_id = alloc.out_ioas_id };
        if (ioctl(fd, CVFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach) < 0) return fail("VFIO_DEVICE_ATTACH_IOMMUFD_PT");
        printf("cdev %s: devid=%u ioas=%u\n", cdevs[i], bind.out_devid, alloc.out_ioas_id);
        if (first < 0) first = fd;
    }
    return first;
}

int main(int argc, char **argv) {
    const char *device = NULL, *cdevs[MAX_FDS];
    int groups[MAX_FDS], group_fds[MAX_FDS], group_count = 0, cdev_count = 0, reset = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--device") && i + 1 < argc) device = argv[++i];
        else if (!strcmp(argv[i], "--group") && i + 1 < argc && group_count < MAX_FDS) groups[group_count++] = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cdev") && i + 1 < argc && cdev_count < MAX_FDS) cdevs[cdev_count++] = argv[++i];
        else if (!strcmp(argv[i], "--reset")) reset = 1;
        else {
            fprintf(stderr, "usage: vfio-hotreset --device ADDR --group N [--group M]... | --cdev PATH [--cdev PATH]... [--reset]\n");
            return 2;
        }
    }
    if (cdev_count == 0 && (!device || group_count == 0)) {
        fprintf(stderr, "vfio-hotreset: --device and --group, or --cdev, are required\n");
        return 2;
    }
    int fd;
    if (cdev_count > 0) {
        device = cdevs[0];
        group_count = 0;
        fd = open_cdevs(cdevs, cdev_count);
    } else {
        fd = open_group_device(device, groups, group_count, group_fds);
    }
    if (fd < 0) return 1;

    /* VFIO_DEVICE_GET_INFO fills struct vfio_device_info (argsz, flags, num_regions, num_irqs). */
    struct vfio_device_info info = { .argsz = sizeof info };
    if (ioctl(fd, CVFIO_DEVICE_GET_INFO, &info) < 0) return fail("VFIO_DEVICE_GET_INFO"), 1;
    printf("device %s: flags=0x%x reset-flag=%s regions=%u irqs=%u\n", device, info.flags,
           (info.flags & CVFIO_DEVICE_FLAGS_RESET) ? "yes" : "no", info.num_regions, info.num_irqs);

    /* VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: struct vfio_pci_hot_reset_info followed by `count` struct
     * vfio_pci_dependent_device entries (ENOSPC with the count needed when too few; 32 is plenty here).
     * Entry layout: group_id (or, with FLAG_DEV_ID on 6.6+, a devid in the same u32: OWNED 0 / NOT_OWNED
     * -1 / an iommufd device id), segment, bus, devfn. */
    size_t size = sizeof(struct vfio_pci_hot_reset_info) + 32 * sizeof(struct vfio_pci_dependent_device);
    struct vfio_pci_hot_reset_info *hot = calloc(1, size);
    hot->argsz = (uint32_t)size;
    if (ioctl(fd, CVFIO_DEVICE_GET_PCI_HOT_RESET_INFO, hot) < 0) {
        printf("hot-reset-info: error errno %d (%s)\n", errno, strerror(errno));
    } else {
        int by_devid = (hot->flags & CVFIO_PCI_HOT_RESET_FLAG_DEV_ID) != 0;
        printf("hot-reset-info: flags=0x%x%s%s count=%u scope:", hot->flags, by_devid ? " DEV_ID" : "",
               (hot->flags & CVFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED) ? " DEV_ID_OWNED" : "", hot->count);
        for (uint32_t i = 0; i < hot->count; i++) {
            struct vfio_pci_dependent_device *d = &hot->devices[i];
            printf(" %04x:%02x:%02x.%x(%s %d)", d->segment, d->bus, d->devfn >> 3, d->devfn & 7,
                   by_devid ? "devid" : "group", (int)d->group_id);
        }
        printf("\n");
    }
    if (!reset) return 0;

    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    /* VFIO_DEVICE_RESET takes no argument: the per-function reset (FLR, PM, or bus when alone). */
    if (ioctl(fd, CVFIO_DEVICE_RESET) < 0) printf("function-reset: error errno %d (%s) after %ld ms\n", errno, strerror(errno), elapsed_ms(&start));
    else printf("function-reset: ok after %ld ms\n", elapsed_ms(&start));

    /* VFIO_DEVICE_PCI_HOT_RESET: struct vfio_pci_hot_reset (argsz, flags, count) followed by `count` group
     * fds covering every group of the scope (EINVAL when one is missing); count 0 on a cdev-opened device
     * means "owned through my iommufd" (EPERM when a device of the scope is not). */
    size_t reset_size = sizeof(struct vfio_pci_hot_reset) + (size_t)group_count * sizeof(int32_t);
    struct vfio_pci_hot_reset *request = calloc(1, reset_size);
    request->argsz = (uint32_t)reset_size;
    request->count = (uint32_t)group_count;
    for (int g = 0; g < group_count; g++) request->group_fds[g] = group_fds[g];
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (ioctl(fd, CVFIO_DEVICE_PCI_HOT_RESET, request) < 0) printf("hot-reset: error errno %d (%s) after %ld ms\n", errno, strerror(errno), elapsed_ms(&start));
    else printf("hot-reset: ok after %ld ms\n", elapsed_ms(&start));
    return 0;
}
