#!/bin/bash
# The key of ~/.cache/sgdma for a CI cache: a hash of what the cache is
# built from, the pinned QEMU sources (ci/qemu-versions) and the kernels
# apt offers today (ci/kernel.sh follows Debian's meta packages, the debug
# kernel is built from linux-source-6.1 and ci/debug-kernel.config). Needs
# current apt lists (apt-get update). Inside, the cache is keyed by the
# same versions, so a restored older cache is only added to.
#   ci/cache-key.sh    prints e.g. 3f2a9c0d1e4b5a6c
set -euo pipefail
ci=$(dirname "$0")
candidate() {
    local v
    v=$(apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')
    if [ -z "$v" ] || [ "$v" = "(none)" ]; then
        echo "[sgdma] error: apt offers no $1 (apt-get update first?)" >&2
        return 1
    fi
    echo "$1 $v"
}
inputs=$(cat "$ci/qemu-versions" "$ci/debug-kernel.config")
for pkg in linux-image-amd64 linux-image-6.12-amd64 linux-source-6.1; do
    inputs+=$'\n'$(candidate "$pkg")
done
sha256sum <<<"$inputs" | cut -c1-16
