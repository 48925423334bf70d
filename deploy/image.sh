#!/usr/bin/env bash
# Builds the image from deploy/Dockerfile with buildah, on a machine with no image registry:
# the runtime base (Debian bookworm, trimmed as debian:bookworm-slim is) is made here with
# debootstrap from Debian's packages, once, and the binary is this checkout's release build
# (or --binary). Anywhere a registry is reachable, `docker build -f deploy/Dockerfile .` builds
# the same image from the public bases, compiling in the Dockerfile's own stages.
#
#   bash deploy/image.sh                       release build → localhost/progress-dashboard:latest
#   bash deploy/image.sh --binary PATH --tag localhost/progress-dashboard:test
#   bash deploy/image.sh --base-only           only make the local base
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    echo
    echo "options: --binary PATH  --tag NAME  --max-mb N (default 150)  --base-only  --help"
}

binary=""
tag="localhost/progress-dashboard:latest"
max_mb=150
base_only=false
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary=${2:?--binary needs a path}; shift 2 ;;
        --tag) tag=${2:?--tag needs a name}; shift 2 ;;
        --max-mb) max_mb=${2:?--max-mb needs a number}; shift 2 ;;
        --base-only) base_only=true; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "deploy/image.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
case "$max_mb" in ''|*[!0-9]*) echo "deploy/image.sh: --max-mb takes a whole number of MB" >&2; exit 2 ;; esac

# buildah as root on this kind of machine: chroot isolation, vfs storage (no overlay mounts)
export BUILDAH_ISOLATION=chroot STORAGE_DRIVER=vfs
need=()
command -v buildah >/dev/null 2>&1 || need+=(buildah)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
    echo "==> installing ${need[*]} (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi

base=localhost/progress-dashboard-base:bookworm-slim
if ! buildah inspect --type image "$base" >/dev/null 2>&1; then
    echo "==> making the runtime base $base with debootstrap (once; a few minutes)"
    root=$(mktemp -d /tmp/pd-rootfs.XXXXXX)
    trap 'rm -rf "$root" "$root.tar"' EXIT
    debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/tmp/pd-debootstrap.log 2>&1 ||
        { tail -20 /tmp/pd-debootstrap.log >&2; exit 1; }
    # what debian:bookworm-slim leaves out: documentation, manuals, locales, apt's caches
    rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
        "$root"/usr/share/locale/* "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* \
        "$root"/var/log/* "$root"/tmp/*
    tar -C "$root" -cf "$root.tar" .
    ctr=$(buildah from scratch)
    # a local tar archive is unpacked by `add`
    buildah add "$ctr" "$root.tar" / >/dev/null
    buildah config --cmd /bin/bash --label org.opencontainers.image.base.name=debian:bookworm-slim "$ctr"
    buildah commit --rm -q "$ctr" "$base" >/dev/null
    rm -rf "$root" "$root.tar"
    trap - EXIT
fi
$base_only && exit 0

mkdir -p deploy/.prebuilt
if [ -z "$binary" ]; then
    echo "==> cargo build --release (the first one takes a while on two cores)"
    cargo build --release --locked --bin progress-dashboard
    binary=target/release/progress-dashboard
fi
[ -x "$binary" ] || { echo "deploy/image.sh: $binary is not an executable" >&2; exit 2; }
strip -o deploy/.prebuilt/progress-dashboard "$binary"
# the commit the binary was built from (its --version), for the image's revision label
commit=$("$binary" --version 2>/dev/null | sed -n 's/.*(commit \(.*\))$/\1/p')
[ -n "$commit" ] || commit=unknown

echo "==> buildah bud → $tag"
# the docker format keeps HEALTHCHECK (OCI's has no field for it)
buildah bud -q --format docker -f deploy/Dockerfile \
    --build-arg RUNTIME_IMAGE="$base" \
    --build-arg BINARY=prebuilt \
    --build-arg GIT_COMMIT="$commit" \
    -t "$tag" . >/dev/null
rm -f deploy/.prebuilt/progress-dashboard

# the image's size as `docker images` gives it: its file system, unpacked
ctr=$(buildah from -q "$tag")
bytes=$(du -sb "$(buildah mount "$ctr")" | cut -f1)
buildah rm "$ctr" >/dev/null
mb=$((bytes / 1000000))
binary_mb=$(( $(stat -c %s "$binary") / 1000000 ))
echo "built $tag: ${mb} MB (the binary ${binary_mb} MB before strip), commit $commit"
if [ "$mb" -gt "$max_mb" ]; then
    echo "deploy/image.sh: the image is $mb MB, over the $max_mb MB bound" >&2
    exit 1
fi
