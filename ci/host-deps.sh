#!/bin/bash
# Install every Debian package the project needs on the host, idempotently.
# Derives a deb-src entry from the machine's own apt sources (no mirror name
# is written here), so "apt-get source qemu" works.
set -euo pipefail

PKGS=(build-essential ccache dpkg-dev ninja-build meson pkg-config
      libglib2.0-dev libpixman-1-dev libfdt-dev flex bison python3
      python3-venv
      busybox-static cpio gzip kmod pciutils
      seabios qemu-system-data gnuplot-nox)

need_sudo() { if [ "$(id -u)" -ne 0 ]; then echo sudo; fi; }
SUDO=$(need_sudo)

add_deb_src() {
    local src dst
    if grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ ||
       grep -qs '^deb-src' /etc/apt/sources.list; then
        return 1
    fi
    for src in /etc/apt/sources.list.d/*.sources; do
        [ -e "$src" ] || continue
        grep -q '^Types: *deb *$' "$src" || continue
        dst=/etc/apt/sources.list.d/sgdma-src-$(basename "$src")
        sed 's/^Types: *deb *$/Types: deb-src/' "$src" | $SUDO tee "$dst" >/dev/null
    done
    if [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list; then
        sed -n 's/^deb /deb-src /p' /etc/apt/sources.list |
            $SUDO tee /etc/apt/sources.list.d/sgdma-src.list >/dev/null
    fi
    return 0
}

missing=()
for p in "${PKGS[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
        missing+=("$p")
done

updated=0
if add_deb_src; then
    $SUDO apt-get update -q
    updated=1
fi
if [ ${#missing[@]} -gt 0 ]; then
    [ $updated = 1 ] || $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
