# Shared settings for the ci/ scripts; sourced, not run.
# Everything expensive lives under SGDMA_CACHE (outside the git tree) so a
# second run on the same machine rebuilds only what changed.
SGDMA_CACHE=${SGDMA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sgdma}
SGDMA_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CCACHE_DIR=${CCACHE_DIR:-$SGDMA_CACHE/ccache}
mkdir -p "$SGDMA_CACHE"

log() { printf '[sgdma] %s\n' "$*" >&2; }
die() { printf '[sgdma] error: %s\n' "$*" >&2; exit 1; }

# Atomic "replace if different" so unchanged files keep their mtime and
# ninja/make do not rebuild them.
install_if_changed() {
    local src=$1 dst=$2
    if ! cmp -s "$src" "$dst"; then
        mkdir -p "$(dirname "$dst")"
        cp "$src" "$dst.tmp.$$" && mv -f "$dst.tmp.$$" "$dst"
    fi
}

# Run from its build tree, QEMU looks for firmware under qemu-bundle/ +
# --firmwarepath: point that at Debian's seabios and qemu-system-data.
#   link_firmware BUILD-DIR
link_firmware() {
    local fw
    for fw in /usr/share/qemu /usr/share/seabios; do
        mkdir -p "$1/qemu-bundle$(dirname "$fw")"
        ln -sfn "$fw" "$1/qemu-bundle$fw"
    done
}

# Serialises use of the shared cache (QEMU tree and builds, kernels, apt):
# several checkouts of the project may build at once on one machine.
#   with_cache_lock NAME CMD...
with_cache_lock() {
    local name=$1
    shift
    flock "$SGDMA_CACHE/.lock-$name" "$@"
}
