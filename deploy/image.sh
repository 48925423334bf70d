#!/usr/bin/env bash
# Builds the image from deploy/Dockerfile with buildah, on a machine with no image registry:
# the runtime base (Debian 12's C library, as gcr.io/distroless/cc-debian12 is) is made here
# from Debian's packages, once, and the binary is this checkout's release build (or --binary).
# Anywhere a registry is reachable, `docker build -f deploy/Dockerfile .` builds the same image
# from the public bases, compiling in the Dockerfile's own stages.
#
#   bash deploy/image.sh                       release build → localhost/progress-dashboard:latest
#   bash deploy/image.sh --binary PATH --tag localhost/progress-dashboard:test
#   bash deploy/image.sh --base-only           only make the local base
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    # the comment block at the top of this file
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
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
if [ ${#need[@]} -gt 0 ]; then
    echo "==> installing ${need[*]} (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi

# The runtime base, as distroless's cc-debian12 is made: Debian 12's C library and libgcc
# unpacked from their packages (no shell, no package manager), /etc/passwd with `nonroot`
# (65532), /tmp. Made once; a new Debian point release makes a new one.
base=localhost/progress-dashboard-base:cc-debian12
if ! buildah inspect --type image "$base" >/dev/null 2>&1; then
    echo "==> making the runtime base $base from Debian's libc6 and libgcc-s1"
    root=$(mktemp -d /tmp/pd-rootfs.XXXXXX)
    trap 'rm -rf "$root" "$root.debs" "$root.tar"' EXIT
    mkdir -p "$root.debs"
    (cd "$root.debs" && apt-get download libc6 libgcc-s1 2>/dev/null) ||
        { apt-get update -qq && (cd "$root.debs" && apt-get download libc6 libgcc-s1); }
    for deb in "$root.debs"/*.deb; do dpkg-deb -x "$deb" "$root"; done
    # what a Rust binary never loads: character-set converters, documentation
    rm -rf "$root"/usr/lib/x86_64-linux-gnu/gconv "$root"/usr/share "$root"/usr/lib/x86_64-linux-gnu/audit
    mkdir -p "$root"/etc "$root"/tmp "$root"/home/nonroot "$root"/root
    chmod 1777 "$root"/tmp
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$root"/etc/passwd
    printf 'root:x:0:\nnonroot:x:65532:\n' > "$root"/etc/group
    printf 'hosts: files dns\n' > "$root"/etc/nsswitch.conf
    chown 65532:65532 "$root"/home/nonroot
    tar -C "$root" -cf "$root.tar" .
    ctr=$(buildah from scratch)
    # a local tar archive is unpacked by `add`
    buildah add "$ctr" "$root.tar" / >/dev/null
    buildah config --label org.opencontainers.image.base.name=gcr.io/distroless/cc-debian12 "$ctr"
    buildah commit --rm -q "$ctr" "$base" >/dev/null
    rm -rf "$root" "$root.debs" "$root.tar"
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
