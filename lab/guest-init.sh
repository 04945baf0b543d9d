#!/bin/busybox sh
# /init of the lab guest's initramfs (lab/run copies this file there, next to a static busybox and, for
# Debian's kernel, the modules it needs in /modules with their load order in /modules/order).
#
# 1. loads the modules, 2. mounts the host root read-only over 9p (tag `hostroot`) at /newroot and the
# writable results share (tag `labresults`) at /newroot/run/lab, with the guest's own proc, sys, dev,
# /tmp and /run, 3. runs /run/lab/cmd.sh (written by lab/run) chrooted into the host root, stdout and
# stderr into the results share, 4. saves the exit status and dmesg there, 5. powers off.
# Progress lines start with "lab-init:" and go to the serial console.

/bin/busybox --install -s /bin
export PATH=/bin
say() { echo "lab-init: $*"; }
fail() { say "FATAL: $*"; echo "lab-init: FATAL: $*" >/dev/kmsg 2>/dev/null; poweroff -f; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say "kernel $(uname -r), up $(cut -d' ' -f1 /proc/uptime) s"

if [ -f /modules/order ]; then
    while read -r module; do
        insmod "/modules/$module" || say "insmod $module failed"
    done </modules/order
    say "modules loaded, up $(cut -d' ' -f1 /proc/uptime) s"
fi

# 9p: msize 512 KiB keeps reads of the Swift libraries few; the host root is read-only, so caching is safe.
NINEP=trans=virtio,version=9p2000.L,msize=524288
mkdir -p /newroot
mount -t 9p -o "$NINEP,ro,cache=loose" hostroot /newroot || fail "cannot mount the host root (9p tag hostroot)"
# The repo (lab.repo= on the kernel command line) may live under /tmp or /run, which get the guest's own
# tmpfs below: keep a handle on it now and bind it back at the same path afterwards.
REPO=$(sed -n 's/.*lab\.repo=\([^ ]*\).*/\1/p' /proc/cmdline)
if [ -n "$REPO" ]; then
    mkdir -p /repo
    mount --bind "/newroot$REPO" /repo || fail "cannot find the repo $REPO in the host root"
fi
mount -t proc proc /newroot/proc || fail "no /proc in the host root"
mount -t sysfs sysfs /newroot/sys || fail "no /sys in the host root"
mount -t devtmpfs devtmpfs /newroot/dev || fail "no /dev in the host root"
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp || fail "no /tmp in the host root"
mount -t tmpfs -o mode=755 tmpfs /newroot/run || fail "no /run in the host root"
mkdir -p /newroot/run/lab
mount -t 9p -o "$NINEP,rw" labresults /newroot/run/lab || fail "cannot mount the results share (9p tag labresults)"
[ -f /newroot/run/lab/cmd.sh ] || fail "no cmd.sh in the results share"
if [ -n "$REPO" ]; then
    mkdir -p "/newroot$REPO" 2>/dev/null
    mount --bind /repo "/newroot$REPO" || fail "cannot bind the repo back at $REPO"
fi

# vfiod and the probe listen on 127.0.0.1.
ip link set lo up
hostname vfiod-lab

say "running the guest command, up $(cut -d' ' -f1 /proc/uptime) s"
chroot /newroot /bin/bash /run/lab/cmd.sh </dev/null >/newroot/run/lab/stdout.txt 2>/newroot/run/lab/stderr.txt
status=$?
echo "$status" >/newroot/run/lab/exit-status
say "guest command exited $status, up $(cut -d' ' -f1 /proc/uptime) s"
dmesg >/newroot/run/lab/dmesg.txt
sync
umount /newroot/run/lab
poweroff -f
