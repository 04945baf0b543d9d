#!/usr/bin/env bash
# lab/probe.sh: a guest command (`lab/run -- lab/probe.sh`) that prints what the real kernel shows, for
# lab/facts/: the PCI functions with their drivers, IOMMU groups and reset methods, the VFIO device nodes,
# a hands-on cooperative unbind with the static vfio-opener (group path; the cdev path too when the kernel
# has iommufd), and vfiod itself serving /v1/devices and /v1/groups. Writes opener-*.txt, vfiod.log,
# devices.json, groups.json and host.json into $LAB_RESULTS. Prints `scenario probe-…:` lines for lab/run.
set -u
RESULTS=${LAB_RESULTS:-/tmp}
SYS=/sys/bus/pci/devices

section() { printf '\n## %s\n' "$*"; }
# Bash builtins only where it loops: under TCG every exec of a dynamic binary costs ~0.2 s (lab/README.md).
# value FILE: prints the file's first line ("" when empty), or "-" when there is no such file.
value() { local line=""; if [ -e "$1" ]; then read -r line <"$1" 2>/dev/null; echo "$line"; else echo -; fi; }
# link_name LINK: prints the last component of the symlink's target, or "-".
link_name() { local target; if [ -e "$1" ]; then target=$(readlink "$1"); echo "${target##*/}"; else echo -; fi; }
# members GROUP: the group's devices, space-separated.
members() { local path list=""; for path in /sys/kernel/iommu_groups/"$1"/devices/*; do list+="${list:+ }${path##*/}"; done; echo "$list"; }
ms() { echo $(($(date +%s%N) / 1000000)); }

section kernel
echo "release: $(uname -r)"
echo "cmdline: $(cat /proc/cmdline)"

section "PCI functions"
# The slot (from /sys/bus/pci/slots/*/address) each function sits in, when it has one.
declare -A slot_of=()
for slot in /sys/bus/pci/slots/*; do
    [ -f "$slot/address" ] && slot_of[$(value "$slot/address")]=${slot##*/}
done
for device in "$SYS"/*; do
    address=${device##*/}
    vendor=$(value "$device/vendor")
    product=$(value "$device/device")
    group=$(link_name "$device/iommu_group")
    member_list=-
    [ "$group" != - ] && member_list=$(members "$group")
    vfio_dev=no
    if [ -d "$device/vfio-dev" ]; then
        for node in "$device"/vfio-dev/*; do vfio_dev="yes(${node##*/})"; done
    fi
    reset=$(value "$device/reset_method")
    speed=$(value "$device/current_link_speed")
    parent=$(readlink "$device")
    parent=${parent%/*}
    echo "$address ${vendor#0x}:${product#0x} class=$(value "$device/class") driver=$(link_name "$device/driver")" \
        "group=$group reset_method=${reset:-none} vfio-dev=$vfio_dev slot=${slot_of[${address%.*}]:-none}" \
        "link=${speed// /}/$(value "$device/current_link_width") parent=${parent##*/} members=[$member_list]"
done

section "device nodes"
# /dev/vfio/devices appears only with the first device cdev (a device bound to vfio-pci, on a kernel with
# CONFIG_VFIO_DEVICE_CDEV); the vfio-dev class is there whenever vfio is.
for node in /dev/iommu /dev/vfio/vfio /dev/vfio/devices /sys/class/vfio-dev; do
    if [ -e "$node" ]; then echo "$node: present"; else echo "$node: absent"; fi
done
echo "/dev/vfio: $(ls /dev/vfio 2>/dev/null | tr '\n' ' ')"
echo "vfio modules/builtins: $(ls /sys/module | grep -E '^(vfio|iommufd|irqbypass)' | tr '\n' ' ')"

# Binds ADDRESS to vfio-pci the deterministic way (docs/ARCHITECTURE.md, "Kernel writes"); prints the
# driver it ended on.
bind_vfio() {
    local address=$1
    echo vfio-pci >"$SYS/$address/driver_override"
    if [ -e "$SYS/$address/driver" ]; then echo "$address" >"$SYS/$address/driver/unbind"; fi
    echo "$address" >/sys/bus/pci/drivers_probe
    link_name "$SYS/$address/driver"
}
restore_driver() {
    local address=$1
    echo >"$SYS/$address/driver_override"
    if [ -e "$SYS/$address/driver" ]; then echo "$address" >"$SYS/$address/driver/unbind"; fi
    echo "$address" >/sys/bus/pci/drivers_probe 2>/dev/null || true
}

# Starts the opener with ARGS, unbinds ADDRESS from vfio-pci from this shell (which holds no VFIO fd),
# and reports. Name: scenario name. Output in $RESULTS/opener-NAME.txt.
cooperative_unbind() {
    local name=$1 address=$2
    shift 2
    local out=$RESULTS/opener-$name.txt kmsg_before started ended opener waited=0 problem=""
    kmsg_before=$(dmesg | wc -l)
    "$LAB_OPENER" "$@" --on-request close >"$out" 2>&1 &
    opener=$!
    # Poll for the opener's ready line (10 s at most; it is a few ms).
    while ! grep -q '^ready' "$out" && kill -0 "$opener" 2>/dev/null && ((waited < 100)); do
        sleep 0.1
        waited=$((waited + 1))
    done
    if ! grep -q '^ready' "$out"; then
        echo "opener did not get ready:"
        sed 's/^/  /' "$out"
        echo "scenario probe-unbind-$name: fail: opener not ready: $(tail -1 "$out")"
        kill "$opener" 2>/dev/null
        wait "$opener" 2>/dev/null
        return
    fi
    started=$(ms)
    # The write blocks until the opener closes its device fd; a watchdog releases the opener after 30 s.
    (sleep 30 && kill -TERM "$opener" 2>/dev/null && echo "watchdog: sent SIGTERM to the opener") &
    local watchdog=$!
    echo "$address" >/sys/bus/pci/drivers/vfio-pci/unbind
    local write_status=$?
    ended=$(ms)
    kill "$watchdog" 2>/dev/null
    wait "$watchdog" 2>/dev/null
    wait "$opener"
    local opener_status=$?
    echo "unbind write: status $write_status after $((ended - started)) ms; opener exit status $opener_status"
    echo "opener output:"
    sed 's/^/  /' "$out"
    echo "kernel log since the opener started:"
    dmesg | tail -n +"$((kmsg_before + 1))" | sed 's/^/  /'
    echo "driver after unbind: $(link_name "$SYS/$address/driver")"
    grep -q '^request n=' "$out" || problem="the opener saw no request"
    grep -q '^exit reason=request' "$out" || problem="${problem:+$problem; }opener did not exit on the request"
    dmesg | tail -n +"$((kmsg_before + 1))" | grep -q 'Relaying device request' || problem="${problem:+$problem; }no relay line in the kernel log"
    [ -e "$SYS/$address/driver" ] && problem="${problem:+$problem; }still bound"
    if [ -z "$problem" ]; then
        echo "scenario probe-unbind-$name: pass"
    else
        echo "scenario probe-unbind-$name: fail: $problem"
    fi
}

section "cooperative unbind (vfio-opener)"
edu=""
for device in "$SYS"/*; do
    if [ "$(value "$device/vendor"):$(value "$device/device")" = 0x1234:0x11e8 ]; then
        edu=$(basename "$device")
        break
    fi
done
if [ -z "$edu" ]; then
    echo "scenario probe-unbind-group: fail: no edu device"
elif [ ! -x "${LAB_OPENER:-}" ]; then
    echo "scenario probe-unbind-group: skip: no vfio-opener at ${LAB_OPENER:-(unset)}"
else
    group=$(link_name "$SYS/$edu/iommu_group")
    echo "edu: $edu, group $group, driver before: $(link_name "$SYS/$edu/driver")"
    echo "bound to: $(bind_vfio "$edu")"
    echo "/dev/vfio now: $(ls /dev/vfio | tr '\n' ' ')"
    echo "/dev/vfio/devices now: $(ls /dev/vfio/devices 2>/dev/null | tr '\n' ' ')"
    echo "$edu/vfio-dev now: $(ls "$SYS/$edu/vfio-dev" 2>/dev/null | tr '\n' ' ')"
    echo "### group path: vfio-opener --group $group --device $edu"
    cooperative_unbind group "$edu" --group "$group" --device "$edu"
    if [ -e /dev/iommu ]; then
        echo "bound to: $(bind_vfio "$edu")"
        cdev=$(ls "$SYS/$edu/vfio-dev" 2>/dev/null | head -1)
        if [ -n "$cdev" ]; then
            echo "### cdev path: vfio-opener --cdev /dev/vfio/devices/$cdev"
            cooperative_unbind cdev "$edu" --cdev "/dev/vfio/devices/$cdev"
        else
            echo "scenario probe-unbind-cdev: fail: /dev/iommu exists but $edu has no vfio-dev"
        fi
    else
        echo "scenario probe-unbind-cdev: skip: no /dev/iommu (kernel without CONFIG_IOMMUFD)"
    fi
    restore_driver "$edu"
    echo "edu driver after restore: $(link_name "$SYS/$edu/driver"), driver_override: '$(value "$SYS/$edu/driver_override")'"
fi

section "resets (vfio-hotreset: function reset, hot-reset scope, hot reset with the scope's group fds)"
HOTRESET=${LAB_TOOLS:-}/vfio-hotreset
# find_device VENDOR:DEVICE [NTH]: the NTH (1-based) function with that ID.
find_device() {
    local device n=0
    for device in "$SYS"/*; do
        if [ "$(value "$device/vendor"):$(value "$device/device")" = "0x${1%:*}:0x${1#*:}" ]; then
            n=$((n + 1))
            if [ "$n" = "${2:-1}" ]; then echo "${device##*/}"; return 0; fi
        fi
    done
    return 1
}
# reset_check NAME ADDRESS...: binds every ADDRESS to vfio-pci, runs vfio-hotreset on the first with the
# groups of all of them, restores the drivers. Prints a scenario line: pass when the tool got as far as the
# hot reset (whatever its outcome: that is the fact), skip when a group was not viable.
reset_check() {
    local name=$1 first=$2 address groups=() group_args=() before=() output
    shift
    for address in "$@"; do
        before+=("$(link_name "$SYS/$address/driver")")
        echo "$address: $(link_name "$SYS/$address/driver") -> $(bind_vfio "$address")"
        group=$(link_name "$SYS/$address/iommu_group")
        case " ${groups[*]} " in *" $group "*) ;; *) groups+=("$group"); group_args+=(--group "$group") ;; esac
    done
    output=$("$HOTRESET" --device "$first" "${group_args[@]}" --reset 2>&1)
    echo "$output" | sed 's/^/  /'
    for address in "$@"; do restore_driver "$address"; done
    echo "restored: $(for address in "$@"; do echo -n "$address=$(link_name "$SYS/$address/driver") "; done)"
    if grep -q '^hot-reset:' <<<"$output"; then
        echo "scenario probe-reset-$name: pass"
    elif grep -q 'viable=no' <<<"$output"; then
        echo "scenario probe-reset-$name: skip: $(grep 'viable=no' <<<"$output") (a member's driver does not allow it)"
    else
        echo "scenario probe-reset-$name: fail: $(tail -1 <<<"$output")"
    fi
}
# reset_check_cdev NAME N ADDRESS...: binds every ADDRESS to vfio-pci, opens the first N through their cdevs
# (one iommufd), queries and resets the first, restores the drivers.
reset_check_cdev() {
    local name=$1 open_count=$2 address cdev_args=() output n=0
    shift 2
    for address in "$@"; do
        echo "$address: $(link_name "$SYS/$address/driver") -> $(bind_vfio "$address")"
        n=$((n + 1))
        if ((n <= open_count)); then
            for node in "$SYS/$address"/vfio-dev/*; do cdev_args+=(--cdev "/dev/vfio/devices/${node##*/}"); done
        fi
    done
    output=$("$HOTRESET" "${cdev_args[@]}" --reset 2>&1)
    echo "$output" | sed 's/^/  /'
    for address in "$@"; do restore_driver "$address"; done
    if grep -q '^hot-reset:' <<<"$output"; then
        echo "scenario probe-reset-cdev-$name: pass"
    else
        echo "scenario probe-reset-cdev-$name: fail: $(tail -1 <<<"$output")"
    fi
}
if [ ! -x "$HOTRESET" ]; then
    echo "scenario probe-reset: skip: no $HOTRESET"
else
    kmsg_before=$(dmesg | wc -l)
    edu0=$(find_device 1234:11e8 1)
    edu1=$(find_device 1234:11e8 2)
    e1000e=$(find_device 8086:10d3)
    e1000=$(find_device 8086:100e)
    nvme=$(find_device 1b36:0010)
    echo "### edu $edu0 behind a default root port"
    reset_check edu "$edu0"
    echo "### e1000e $e1000e behind a root port with x-speed=5"
    reset_check e1000e "$e1000e"
    echo "### nvme $nvme behind a default root port"
    reset_check nvme "$nvme"
    echo "### edu $edu1 + e1000 $e1000 behind the pcie-pci-bridge (one group with the bridge)"
    bridge=$(readlink "$SYS/$edu1")
    bridge=${bridge%/*}
    bridge=${bridge##*/}
    echo "bridge $bridge driver: $(link_name "$SYS/$bridge/driver")"
    reset_check bridge-group "$edu1" "$e1000"
    if [ "$(link_name "$SYS/$bridge/driver")" != - ]; then
        bridge_driver=$(link_name "$SYS/$bridge/driver")
        echo "### again with the bridge unbound from $bridge_driver"
        echo "$bridge" >"$SYS/$bridge/driver/unbind"
        reset_check bridge-group-unbound-bridge "$edu1" "$e1000"
        echo "$bridge" >/sys/bus/pci/drivers_probe
        echo "bridge driver after drivers_probe: $(link_name "$SYS/$bridge/driver")"
    fi
    if [ -e /dev/iommu ]; then
        echo "### cdev path (iommufd): the same through /dev/vfio/devices, hot reset with no group fd"
        reset_check_cdev edu 1 "$edu0"
        reset_check_cdev bridge-group-one-open 1 "$edu1" "$e1000"
        reset_check_cdev bridge-group-both-open 2 "$edu1" "$e1000"
    fi
    echo "kernel log of the resets:"
    dmesg | tail -n +"$((kmsg_before + 1))" | grep -vE 'e1000e? .*(Link|link|NIC|MAC|Intel|PBA|Ethernet|eth)' | sed 's/^/  /'
fi

section "vfiod"
VFIOD=${LAB_VFIOD:-.build/release/vfiod}
if [ ! -x "$VFIOD" ]; then
    echo "scenario probe-vfiod: skip: no $VFIOD (build it: swift build -c release --product vfiod)"
    exit 0
fi
"$VFIOD" --help 2>&1 | head -3
mkdir -p /tmp/vfiod
port=8460
started=$(ms)
"$VFIOD" serve --host-root / --listen "127.0.0.1:$port" --no-auth --db /tmp/vfiod/vfiod.db --allow all \
    >"$RESULTS/vfiod.log" 2>&1 &
vfiod=$!
# curl when the host has it, else busybox wget (lab/run puts a static busybox in $LAB_TOOLS).
if command -v curl >/dev/null; then
    fetch() { curl -sf --max-time 20 "http://127.0.0.1:$port$1"; }
else
    # Not wget's -T: Debian's static busybox 1.35 wget segfaults with it (seen in the lab, any -cpu).
    fetch() { timeout 20 "${LAB_BUSYBOX:-busybox}" wget -q -O - "http://127.0.0.1:$port$1"; }
fi
waited=0
until fetch /v1/host >"$RESULTS/host.json" 2>/dev/null; do
    if ! kill -0 "$vfiod" 2>/dev/null || ((waited >= 600)); then break; fi
    sleep 0.1
    waited=$((waited + 1))
done
if fetch /v1/host >"$RESULTS/host.json"; then
    echo "vfiod answered after $(($(ms) - started)) ms"
    fetch /v1/devices >"$RESULTS/devices.json" && fetch /v1/groups >"$RESULTS/groups.json"
    status=$?
    echo "devices.json: $(wc -c <"$RESULTS/devices.json") bytes, groups.json: $(wc -c <"$RESULTS/groups.json") bytes"
    kill -TERM "$vfiod"
    wait "$vfiod"
    echo "vfiod exit status after SIGTERM: $?"
    if ((status == 0)); then echo "scenario probe-vfiod: pass"; else echo "scenario probe-vfiod: fail: /v1/devices or /v1/groups failed"; fi
else
    kill -TERM "$vfiod" 2>/dev/null
    wait "$vfiod"
    echo "vfiod did not answer (exit status $?); log:"
    tail -20 "$RESULTS/vfiod.log" | sed 's/^/  /'
    echo "scenario probe-vfiod: fail: no answer on 127.0.0.1:$port"
fi
sed 's/^/  vfiod.log: /' "$RESULTS/vfiod.log" | tail -15
