/* vfio-opener: getting a device fd, by the legacy group/container path or by the device cdev + iommufd path.
 * Every fd is opened with O_CLOEXEC: a process that forks and execs must not pass VFIO fds on (a child that
 * inherits them and then writes to vfio-pci's unbind waits for itself). */
#include "opener.h"

#include <CVFIO.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Opens host_root + suffix read-write and close-on-exec; returns the fd or -1 with errno set. */
static int open_under_root(const struct opener_options *options, const char *suffix) {
    char path[PATH_MAX];
    int length = snprintf(path, sizeof path, "%s%s", options->host_root, suffix);
    if (length < 0 || (size_t)length >= sizeof path) { errno = ENAMETOOLONG; return -1; }
    return open(path, O_RDWR | O_CLOEXEC);
}

int opener_attach_group(const struct opener_options *options, struct opener_fds *fds) {
    fds->container = open_under_root(options, "/dev/vfio/vfio");
    if (fds->container < 0) return opener_fail(OPENER_EXIT_CONTAINER, "open-container", errno, NULL);
    char group_path[64];
    snprintf(group_path, sizeof group_path, "/dev/vfio/%lu", options->group);
    fds->group = open_under_root(options, group_path);
    if (fds->group < 0) return opener_fail(OPENER_EXIT_GROUP, "open-group", errno, NULL);
    return opener_attach_group_fds(options, fds);
}

int opener_attach_group_fds(const struct opener_options *options, struct opener_fds *fds) {
    /* VFIO_GET_API_VERSION takes no argument and returns VFIO_API_VERSION (0) from every kernel with VFIO;
     * on a file that is not the VFIO container it fails (ENOTTY). */
    int version = ioctl(fds->container, CVFIO_GET_API_VERSION);
    if (version < 0) return opener_fail(OPENER_EXIT_CONTAINER, "VFIO_GET_API_VERSION", errno, NULL);
    if (version != CVFIO_API_VERSION) return opener_fail(OPENER_EXIT_CONTAINER, "VFIO_GET_API_VERSION", 0, "unknown-api-version");

    /* VFIO_CHECK_EXTENSION takes the extension number by value and returns a positive number when the
     * container supports it (0 when not); TYPE1v2 is the x86 IOMMU driver since kernel 3.16. */
    int has_type1v2 = ioctl(fds->container, CVFIO_CHECK_EXTENSION, (unsigned long)CVFIO_TYPE1v2_IOMMU);
    if (has_type1v2 < 0) return opener_fail(OPENER_EXIT_CONTAINER, "VFIO_CHECK_EXTENSION", errno, NULL);
    if (has_type1v2 == 0) return opener_fail(OPENER_EXIT_CONTAINER, "VFIO_CHECK_EXTENSION", 0, "no-type1v2");

    /* VFIO_GROUP_GET_STATUS fills struct vfio_group_status (argsz, flags) when argsz covers both fields;
     * VIABLE is set only when every device in the group is bound to a VFIO-compatible driver or none. */
    struct vfio_group_status status = { .argsz = sizeof status };
    if (ioctl(fds->group, CVFIO_GROUP_GET_STATUS, &status) < 0)
        return opener_fail(OPENER_EXIT_GROUP, "VFIO_GROUP_GET_STATUS", errno, NULL);
    if (!(status.flags & CVFIO_GROUP_FLAGS_VIABLE))
        return opener_fail(OPENER_EXIT_GROUP, "VFIO_GROUP_GET_STATUS", 0, "not-viable");

    /* VFIO_GROUP_SET_CONTAINER reads an int container fd through the pointer; EBUSY if the group already
     * has a container, EINVAL if the fd is not a VFIO container. */
    if (ioctl(fds->group, CVFIO_GROUP_SET_CONTAINER, &fds->container) < 0)
        return opener_fail(OPENER_EXIT_IOMMU, "VFIO_GROUP_SET_CONTAINER", errno, NULL);

    /* VFIO_SET_IOMMU takes the IOMMU type by value; it needs at least one group in the container
     * (set just above), and fails with EINVAL/ENODEV when the IOMMU driver cannot serve the group. */
    if (ioctl(fds->container, CVFIO_SET_IOMMU, (unsigned long)CVFIO_TYPE1v2_IOMMU) < 0)
        return opener_fail(OPENER_EXIT_IOMMU, "VFIO_SET_IOMMU", errno, NULL);

    /* VFIO_GROUP_GET_DEVICE_FD reads a NUL-terminated device name (the PCI address) and returns a new fd,
     * which the kernel opens with O_CLOEXEC (get_unused_fd_flags(O_CLOEXEC)); it needs the container's
     * IOMMU set (EINVAL otherwise) and fails with ENODEV when no device of the group has that name. */
    fds->device = ioctl(fds->group, CVFIO_GROUP_GET_DEVICE_FD, options->device);
    if (fds->device < 0) return opener_fail(OPENER_EXIT_DEVICE, "VFIO_GROUP_GET_DEVICE_FD", errno, NULL);
    /* Belt and braces for kernels that did not set O_CLOEXEC on the device fd. */
    if (fcntl(fds->device, F_SETFD, FD_CLOEXEC) < 0) return opener_fail(OPENER_EXIT_DEVICE, "fcntl-cloexec", errno, NULL);
    return 0;
}

int opener_attach_cdev(const struct opener_options *options, struct opener_fds *fds) {
    fds->device = open_under_root(options, options->cdev);
    if (fds->device < 0) return opener_fail(OPENER_EXIT_DEVICE, "open-cdev", errno, NULL);
    fds->iommufd = open_under_root(options, "/dev/iommu");
    if (fds->iommufd < 0) return opener_fail(OPENER_EXIT_IOMMU, "open-iommufd", errno, NULL);
    return opener_attach_cdev_fds(fds);
}

int opener_attach_cdev_fds(struct opener_fds *fds) {
    /* VFIO_DEVICE_BIND_IOMMUFD (kernel >= 6.6) reads struct vfio_device_bind_iommufd as of 6.6
     * (argsz, flags = 0, iommufd) and writes out_devid; later kernels accept this shorter argsz.
     * EBUSY if the device is already bound or opened through its group. */
    struct cvfio_device_bind_iommufd bind = { .argsz = sizeof bind, .flags = 0, .iommufd = fds->iommufd };
    if (ioctl(fds->device, CVFIO_DEVICE_BIND_IOMMUFD, &bind) < 0)
        return opener_fail(OPENER_EXIT_DEVICE, "VFIO_DEVICE_BIND_IOMMUFD", errno, NULL);
    fds->devid = bind.out_devid;

    /* IOMMU_IOAS_ALLOC (kernel >= 6.2) reads struct iommu_ioas_alloc (size, flags = 0) and writes
     * out_ioas_id: an empty I/O address space that lives as long as the iommufd. */
    struct cvfio_iommu_ioas_alloc alloc = { .size = sizeof alloc, .flags = 0 };
    if (ioctl(fds->iommufd, CVFIO_IOMMU_IOAS_ALLOC, &alloc) < 0)
        return opener_fail(OPENER_EXIT_IOMMU, "IOMMU_IOAS_ALLOC", errno, NULL);
    fds->ioas = alloc.out_ioas_id;

    /* VFIO_DEVICE_ATTACH_IOMMUFD_PT (kernel >= 6.6) reads struct vfio_device_attach_iommufd_pt as of 6.6
     * (argsz, flags = 0, pt_id) and attaches the bound device to that IOAS; 6.12's pasid field is only
     * read when its flag is set. */
    struct cvfio_device_attach_iommufd_pt attach = { .argsz = sizeof attach, .flags = 0, .pt_id = fds->ioas };
    if (ioctl(fds->device, CVFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach) < 0)
        return opener_fail(OPENER_EXIT_DEVICE, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", errno, NULL);
    return 0;
}

/* Closes one fd if open and marks it closed. close(2) on Linux releases the fd even when it reports EINTR. */
static void close_fd(int *fd) {
    if (*fd >= 0) (void)close(*fd);
    *fd = -1;
}

void opener_release(struct opener_fds *fds) {
    /* The device fd first: closing it is what lets a blocked vfio-pci unbind return. Then the group (which
     * leaves its container), the container, the iommufd (destroying the IOAS), and the opener's own fds. */
    close_fd(&fds->device);
    close_fd(&fds->group);
    close_fd(&fds->container);
    close_fd(&fds->iommufd);
    close_fd(&fds->request);
    close_fd(&fds->signals);
    /* --simulated: the request FIFO goes with the opener, so the simulator stops writing to it. */
    if (fds->fifo[0] != '\0') (void)unlink(fds->fifo);
    fds->fifo[0] = '\0';
}
