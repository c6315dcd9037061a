#!/usr/bin/env bash
# Installs what `make` needs, idempotently: Debian packages, uv, the Python
# virtualenv from uv.lock. A second run only checks (a few seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[install-deps] %s\n' "$*" >&2; }

# shellcheck source=versions.env
source hack/versions.env  # UV_VERSION
# exiftool: tests read metadata back to prove strip_metadata removed it.
# lua5.1, lua5.4: tests run the Argo CD health checks (Argo CD's gopher-lua is a Lua 5.1).
# docker.io, debootstrap: `make images` (hack/images.py) runs a private dockerd on a
# Debian base it makes; dockerd's own containerd and runc come with docker.io.
# containerd, runc, containernetworking-plugins, iptables: the real node (hack/node.py)
# runs pods with them inside a network and mount namespace of its own.
# chromium: the scraper's browser adapter drives it through Playwright (no browser download).
DEBIAN_PACKAGES=(ffmpeg redis-server openssl iproute2 ca-certificates libimage-exiftool-perl
  lua5.1 lua5.4 docker.io debootstrap containerd runc containernetworking-plugins iptables
  chromium)

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  # No package may start its service here (docker.io's dockerd would add iptables rules):
  # a policy-rc.d that refuses, for the install only, unless the machine has one already.
  guard=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    guard=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | sudo_ tee "$guard" >/dev/null
    sudo_ chmod 755 "$guard"
  fi
  sudo_ apt-get update -qq
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -z "$guard" ] || sudo_ rm -f "$guard"
  # Nor at the next boot: hack/images.py and hack/node.py start the only dockerd and
  # containerd these tools need.
  if [[ " ${missing[*]} " =~ " "(docker.io|containerd)" " ]] && [ -d /run/systemd/system ]; then
    sudo_ systemctl disable --quiet docker.service docker.socket containerd.service || true
  fi
fi
# The distribution's redis-server unit may have started a server on 6379; tests
# start their own on a free port and never rely on it.

command -v go >/dev/null || { say "Go is required to build the cluster binaries (hack/build-binaries.sh)"; exit 1; }

tools=${XDG_CACHE_HOME:-$HOME/.cache}/mediajobs/tools/uv-$UV_VERSION
# The marker is written last, so an interrupted install is redone, not trusted.
if [ ! -f "$tools/.complete" ]; then
  say "installing uv $UV_VERSION into $tools"
  rm -rf "$tools"
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q "uv==$UV_VERSION"
  touch "$tools/.complete"
fi
export UV_PYTHON_DOWNLOADS=never
"$tools/bin/uv" sync --frozen --quiet --python python3.11
