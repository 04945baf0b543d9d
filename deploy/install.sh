#!/usr/bin/env bash
# Sets up and runs vfiod on a Debian bookworm host: packages, a release build, the binary, its config
# and its systemd unit. Needs root and a Swift 6 toolchain (swift on PATH, or /opt/swift).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
bash scripts/install-deps --runtime
swift build -c release --product vfiod
install -m 0755 "$(swift build -c release --show-bin-path)/vfiod" /usr/local/bin/vfiod
install -d -m 0755 /etc/vfiod /usr/local/share/doc/vfiod
[ -f /etc/vfiod/vfiod.json ] || install -m 0644 deploy/vfiod.json /etc/vfiod/vfiod.json
install -m 0644 README.md docs/SECURITY.md /usr/local/share/doc/vfiod/
if [ -d /run/systemd/system ]; then
  install -m 0644 deploy/vfiod.service /etc/systemd/system/vfiod.service
  systemctl daemon-reload
  systemctl enable --now vfiod
  systemctl --no-pager status vfiod | head -5
else
  # No systemd (a container, a chroot): run it in the foreground instead.
  install -d -m 0700 /var/lib/vfiod
  exec /usr/local/bin/vfiod serve --config /etc/vfiod/vfiod.json
fi
