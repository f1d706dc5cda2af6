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

# Serialises use of the shared cache (QEMU tree and builds, kernels, apt):
# several checkouts of the project may build at once on one machine.
#   with_cache_lock NAME CMD...
with_cache_lock() {
    local name=$1
    shift
    flock "$SGDMA_CACHE/.lock-$name" "$@"
}

# Harness options a guest kernel series needs, into the array SERIES_OPTS.
# The debug kernel (KASAN, kmemleak, lockdep...) needs more memory and
# time. Its lane turns on the guest's end-of-run checks (sgdma_debug=1:
# tests/guest/debug-checks.sh), page poisoning (a device writing to a page
# after it was freed shows when the page is next allocated), and marks the
# kmalloc caches as the ones failslab may fail (sgdma_failinject).
series_opts() {
    SERIES_OPTS=()
    case ${1:-6.1} in
    debug) SERIES_OPTS=(--memory 1024 --timeout "${SGDMA_DEBUG_TIMEOUT:-1500}"
                        --append "sgdma_debug=1 page_poison=1 slub_debug=A,kmalloc-*") ;;
    esac
}
