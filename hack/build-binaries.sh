#!/usr/bin/env bash
# Builds the local cluster's binaries from Go modules (no registry, no GitHub
# downloads here) into ${XDG_CACHE_HOME:-~/.cache}/mediajobs/bin/<name>-<version>/.
# Each component is built into a temporary folder and renamed when complete, so
# an interrupted build never leaves a half binary that a later run would trust.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${XDG_CACHE_HOME:-$HOME/.cache}/mediajobs/bin
mkdir -p "$cache"
# One build at a time per cache: a second `make` (another checkout, a parallel run)
# waits here, then finds what the first built instead of compiling it again.
exec 9>"$cache/.lock"
flock 9
export CGO_ENABLED=0 GOFLAGS=-trimpath GOTOOLCHAIN=local

say() { printf '[build-binaries] %s\n' "$*" >&2; }

# build NAME VERSION FUNCTION: runs FUNCTION DEST in a scratch module folder.
build() {
  local name=$1 version=$2 fn=$3 dest="$cache/$1-$2"
  if [ -d "$dest" ]; then say "$name $version: cached ($dest)"; return; fi
  local work; work=$(mktemp -d)
  say "$name $version: building (first run only)..."
  local t0=$SECONDS
  (cd "$work" && "$fn" "$work/out" "$version")
  mv -T "$work/out" "$dest"  # -T: never nest the folder inside an existing one
  rm -rf "$work"
  say "$name $version: built in $((SECONDS - t0)) s"
}

etcd_fn() {
  local out=$1 v=$2
  go mod init mediajobs.local/etcd-build >/dev/null 2>&1
  printf '//go:build tools\npackage tools\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
  go get "go.etcd.io/etcd/server/v3@$v" >/dev/null
  go mod tidy >/dev/null
  mkdir -p "$out" && go build -o "$out/etcd" go.etcd.io/etcd/server/v3
}

# k8s.io/kubernetes cannot be `go install`ed: its go.mod replaces every staging
# module with ./staging. Require it from a scratch module and point each of those
# replaces at the published k8s.io/<m>@v0.<minor>.<patch> instead.
# k8s_build OUT VERSION CMD...: builds those k8s.io/kubernetes/cmd/<CMD> binaries.
k8s_build() {
  local out=$1 v=$2 staging="v0.${2#v1.}"; shift 2
  local cmds=("$@")
  go mod init mediajobs.local/k8s-build >/dev/null 2>&1
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$v" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  local m
  for m in $(sed -nE 's#^\s*(k8s\.io/[A-Za-z0-9._-]+) => \./staging/.*#\1#p' "$gomod"); do
    go mod edit "-replace=$m=$m@$staging"
  done
  {
    printf '//go:build tools\npackage tools\nimport (\n'
    local c; for c in "${cmds[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"; done
    printf ')\n'
  } > tools.go
  go get "k8s.io/kubernetes@$v" >/dev/null
  go mod tidy >/dev/null
  local minor=${v#v1.}; minor=${minor%%.*}
  local pkg=k8s.io/component-base/version
  local ldflags="-s -w -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  mkdir -p "$out"
  for c in "${cmds[@]}"; do
    say "  kubernetes: $c"
    go build -ldflags "$ldflags" -o "$out/$c" "k8s.io/kubernetes/cmd/$c"
  done
}

k8s_fn() { k8s_build "$1" "$2" kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl; }
# The real node's kube-proxy (hack/node.py): a component of its own, so adding it
# did not invalidate the control plane's cached build.
kube_proxy_fn() { k8s_build "$1" "$2" kube-proxy; }

# The real node's cluster DNS, from a scratch module that requires CoreDNS.
coredns_fn() {
  local out=$1 v=$2
  go mod init mediajobs.local/coredns-build >/dev/null 2>&1
  printf '//go:build tools\npackage tools\nimport _ "github.com/coredns/coredns"\n' > tools.go
  go get "github.com/coredns/coredns@$v" >/dev/null
  go mod tidy >/dev/null
  mkdir -p "$out" && go build -ldflags "-s -w" -o "$out/coredns" github.com/coredns/coredns
}

kwok_fn() {
  local out=$1 v=$2
  GOBIN="$out" go install -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$v"
}

helm_fn() {
  local out=$1 v=$2
  GOBIN="$out" go install -ldflags "-s -w" "helm.sh/helm/v3/cmd/helm@$v"
}

build etcd "$ETCD_VERSION" etcd_fn
build kubernetes "$K8S_VERSION" k8s_fn
build kwok "$KWOK_VERSION" kwok_fn
build helm "$HELM_VERSION" helm_fn
build kube-proxy "$K8S_VERSION" kube_proxy_fn
build coredns "$COREDNS_VERSION" coredns_fn
say "binaries ready under $cache ($(du -sh "$cache" | cut -f1))"
