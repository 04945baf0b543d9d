#ifndef CVFIO_H
#define CVFIO_H

/*
 * CVFIO: the VFIO and iommufd ioctl request numbers and flags vfiod uses, as plain constants.
 *
 * `_IO(...)` is a function-like macro, which Swift cannot import, so every request number is copied into a
 * `static const unsigned long` named `CVFIO_<kernel name>`. Flags are exported the same way so that Swift
 * code never depends on which macros the Clang importer happens to understand.
 *
 * Debian bookworm ships linux-libc-dev 6.1. Its <linux/vfio.h> lacks the device cdev ioctls (kernel 6.6)
 * and the hot-reset DEV_ID flags (6.6), and there is no <linux/iommufd.h> at all (added in 6.2). Those are
 * defined below from the mainline kernel's include/uapi/linux/vfio.h and include/uapi/linux/iommufd.h,
 * each inside `#ifndef` so that newer installed headers win. The numbers are ABI: they never change.
 */

#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/vfio.h>
#include <linux/netlink.h>

#if defined(__has_include)
#if __has_include(<linux/iommufd.h>)
#include <linux/iommufd.h>
#endif
#endif

/* The uevent netlink protocol (linux/netlink.h), for the uevent monitor; struct sockaddr_nl comes from the same header. */
static const int CVFIO_NETLINK_KOBJECT_UEVENT = NETLINK_KOBJECT_UEVENT;

/* ---- Fallbacks for headers older than the kernels that added them ---- */

/* include/uapi/linux/vfio.h, kernel 6.6 ("vfio: Add VFIO_DEVICE_BIND_IOMMUFD"): VFIO_BASE + 18. */
#ifndef VFIO_DEVICE_BIND_IOMMUFD
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)
#endif
/* include/uapi/linux/vfio.h, kernel 6.6 ("vfio: Add VFIO_DEVICE_[AT|DE]TACH_IOMMUFD_PT"): + 19 and + 20. */
#ifndef VFIO_DEVICE_ATTACH_IOMMUFD_PT
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)
#endif
#ifndef VFIO_DEVICE_DETACH_IOMMUFD_PT
#define VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 20)
#endif
/* include/uapi/linux/vfio.h, kernel 6.6, flags of struct vfio_pci_hot_reset_info. */
#ifndef VFIO_PCI_HOT_RESET_FLAG_DEV_ID
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID (1 << 0)
#endif
#ifndef VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED (1 << 1)
#endif
/* include/uapi/linux/vfio.h, kernel 6.6: devid values in struct vfio_pci_dependent_device. */
#ifndef VFIO_PCI_DEVID_OWNED
#define VFIO_PCI_DEVID_OWNED 0
#endif
#ifndef VFIO_PCI_DEVID_NOT_OWNED
#define VFIO_PCI_DEVID_NOT_OWNED -1
#endif
/* include/uapi/linux/iommufd.h, kernel 6.2: IOMMUFD_TYPE is ';' and commands start at 0x80. */
#ifndef IOMMUFD_TYPE
#define IOMMUFD_TYPE (';')
#endif
#ifndef IOMMU_DESTROY
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, 0x80)
#endif
#ifndef IOMMU_IOAS_ALLOC
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, 0x81)
#endif

/* ---- Argument structs of the ioctls the 6.1 headers lack, under our own names (same layout) ---- */

/* struct vfio_device_bind_iommufd as of 6.6 (later kernels append token_uuid_ptr; argsz tells them apart). */
struct cvfio_device_bind_iommufd {
    __u32 argsz;
    __u32 flags;
    __s32 iommufd;
    __u32 out_devid;
};

/* struct vfio_device_attach_iommufd_pt as of 6.6 (6.12 adds pasid behind a flag). */
struct cvfio_device_attach_iommufd_pt {
    __u32 argsz;
    __u32 flags;
    __u32 pt_id;
};

/* struct vfio_device_detach_iommufd_pt as of 6.6. */
struct cvfio_device_detach_iommufd_pt {
    __u32 argsz;
    __u32 flags;
};

/* struct iommu_ioas_alloc (iommufd.h, 6.2). */
struct cvfio_iommu_ioas_alloc {
    __u32 size;
    __u32 flags;
    __u32 out_ioas_id;
};

/* struct iommu_destroy (iommufd.h, 6.2). */
struct cvfio_iommu_destroy {
    __u32 size;
    __u32 id;
};

/* ---- Request numbers ---- */

static const unsigned long CVFIO_GET_API_VERSION = VFIO_GET_API_VERSION;
static const unsigned long CVFIO_CHECK_EXTENSION = VFIO_CHECK_EXTENSION;
static const unsigned long CVFIO_SET_IOMMU = VFIO_SET_IOMMU;
static const unsigned long CVFIO_GROUP_GET_STATUS = VFIO_GROUP_GET_STATUS;
static const unsigned long CVFIO_GROUP_SET_CONTAINER = VFIO_GROUP_SET_CONTAINER;
static const unsigned long CVFIO_GROUP_UNSET_CONTAINER = VFIO_GROUP_UNSET_CONTAINER;
static const unsigned long CVFIO_GROUP_GET_DEVICE_FD = VFIO_GROUP_GET_DEVICE_FD;
static const unsigned long CVFIO_DEVICE_GET_INFO = VFIO_DEVICE_GET_INFO;
static const unsigned long CVFIO_DEVICE_GET_IRQ_INFO = VFIO_DEVICE_GET_IRQ_INFO;
static const unsigned long CVFIO_DEVICE_SET_IRQS = VFIO_DEVICE_SET_IRQS;
static const unsigned long CVFIO_DEVICE_RESET = VFIO_DEVICE_RESET;
static const unsigned long CVFIO_DEVICE_GET_PCI_HOT_RESET_INFO = VFIO_DEVICE_GET_PCI_HOT_RESET_INFO;
static const unsigned long CVFIO_DEVICE_PCI_HOT_RESET = VFIO_DEVICE_PCI_HOT_RESET;
static const unsigned long CVFIO_DEVICE_BIND_IOMMUFD = VFIO_DEVICE_BIND_IOMMUFD;
static const unsigned long CVFIO_DEVICE_ATTACH_IOMMUFD_PT = VFIO_DEVICE_ATTACH_IOMMUFD_PT;
static const unsigned long CVFIO_DEVICE_DETACH_IOMMUFD_PT = VFIO_DEVICE_DETACH_IOMMUFD_PT;
static const unsigned long CVFIO_IOMMU_DESTROY = IOMMU_DESTROY;
static const unsigned long CVFIO_IOMMU_IOAS_ALLOC = IOMMU_IOAS_ALLOC;

/* ---- Constants and flags ---- */

static const int CVFIO_API_VERSION = VFIO_API_VERSION;
static const unsigned int CVFIO_TYPE1v2_IOMMU = VFIO_TYPE1v2_IOMMU;
static const unsigned int CVFIO_GROUP_FLAGS_VIABLE = VFIO_GROUP_FLAGS_VIABLE;
static const unsigned int CVFIO_GROUP_FLAGS_CONTAINER_SET = VFIO_GROUP_FLAGS_CONTAINER_SET;
static const unsigned int CVFIO_DEVICE_FLAGS_RESET = VFIO_DEVICE_FLAGS_RESET;
static const unsigned int CVFIO_DEVICE_FLAGS_PCI = VFIO_DEVICE_FLAGS_PCI;
static const unsigned int CVFIO_PCI_INTX_IRQ_INDEX = VFIO_PCI_INTX_IRQ_INDEX;
static const unsigned int CVFIO_PCI_ERR_IRQ_INDEX = VFIO_PCI_ERR_IRQ_INDEX;
static const unsigned int CVFIO_PCI_REQ_IRQ_INDEX = VFIO_PCI_REQ_IRQ_INDEX;
static const unsigned int CVFIO_IRQ_INFO_EVENTFD = VFIO_IRQ_INFO_EVENTFD;
static const unsigned int CVFIO_IRQ_SET_DATA_NONE = VFIO_IRQ_SET_DATA_NONE;
static const unsigned int CVFIO_IRQ_SET_DATA_BOOL = VFIO_IRQ_SET_DATA_BOOL;
static const unsigned int CVFIO_IRQ_SET_DATA_EVENTFD = VFIO_IRQ_SET_DATA_EVENTFD;
static const unsigned int CVFIO_IRQ_SET_ACTION_MASK = VFIO_IRQ_SET_ACTION_MASK;
static const unsigned int CVFIO_IRQ_SET_ACTION_UNMASK = VFIO_IRQ_SET_ACTION_UNMASK;
static const unsigned int CVFIO_IRQ_SET_ACTION_TRIGGER = VFIO_IRQ_SET_ACTION_TRIGGER;
static const unsigned int CVFIO_PCI_HOT_RESET_FLAG_DEV_ID = VFIO_PCI_HOT_RESET_FLAG_DEV_ID;
static const unsigned int CVFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED = VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
static const int CVFIO_PCI_DEVID_OWNED = VFIO_PCI_DEVID_OWNED;
static const int CVFIO_PCI_DEVID_NOT_OWNED = VFIO_PCI_DEVID_NOT_OWNED;

/* Descriptor passing over the holder socket (SCM_RIGHTS). */
#include "CVFIOSocket.h"

#endif
