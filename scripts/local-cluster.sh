#!/usr/bin/env bash
# shellcheck disable=SC1091  # sources /etc/os-release and $STATE_DIR/cluster.env
# Build, start and stop a real, local, single-node Kubernetes control plane
# (etcd + kube-apiserver + kube-controller-manager, no kubelet, no Docker),
# used by the integration / end-to-end tests.
#
# The Kubernetes binaries (v1.20.2) are built once per machine from Debian's
# `kubernetes` source package and cached under
#   ${SEALED_SECRETS_K8S_CACHE:-$HOME/.cache/sealed-secrets-ts/k8s-v1.20.2}
# etcd comes from Debian's `etcd-server` package.
#
# Usage:
#   scripts/local-cluster.sh build
#       Ensure the binaries are built and cached; prints the cache directory.
#   scripts/local-cluster.sh up [--crd FILE]... [--state-dir DIR] [--port N]
#       Start etcd and kube-apiserver, apply the CRD files (before the
#       controller-manager starts: its garbage collector only rediscovers
#       resource types every 30 s), start kube-controller-manager and wait
#       until everything is ready. The last line on stdout is the kubeconfig
#       path:  export KUBECONFIG=$(scripts/local-cluster.sh up --crd x.yaml)
#       --port 0 (default) picks a free port for the apiserver.
#   scripts/local-cluster.sh up --node [--state-dir DIR] ...
#       Also a real node: kubelet + kube-scheduler (built like the others), containerd 1.6,
#       runc and a CNI bridge (${SEALED_SECRETS_NODE_BRIDGE:-ssts0}, 10.244.0.0/24), the
#       controller image built from the working tree (scripts/build-image.mjs) and imported,
#       so `kubectl apply -k deploy/overlays/dev` runs the controller as Pods. Before kubelet
#       first starts, an egress guard (iptables: OUTPUT REJECT 169.254.0.0/16, FORWARD DROP of
#       everything between the Pod bridge and any other interface) keeps all traffic on this
#       machine. One node per machine; needs root. Pods reach the API server at 10.96.0.1:443.
#   scripts/local-cluster.sh down [--state-dir DIR]     stop everything (idempotent); with a
#       node: Pods deleted through the API first, then kubelet, containerd, the bridge, veths,
#       netns, mounts, kubepods cgroups, our iptables rules, and the sysctls restored
#   scripts/local-cluster.sh status [--state-dir DIR]   exit 0 when all is running
#   scripts/local-cluster.sh kubeconfig [--state-dir DIR]  print the kubeconfig path
#   Fault-injection helpers (same flags and ports as recorded by `up`):
#   scripts/local-cluster.sh restart-apiserver|stop-apiserver|start-apiserver
#   scripts/local-cluster.sh restart-etcd|stop-etcd|start-etcd
#   scripts/local-cluster.sh restart-controller-manager|stop-controller-manager|start-controller-manager
#
# State directory (default ${SEALED_SECRETS_CLUSTER_DIR:-/tmp/sealed-secrets-cluster}):
#   kubeconfig, cluster.env, pki/, <component>.sh (exact command lines, re-runnable),
#   <component>.pid, <component>.log.  etcd keeps its data in /dev/shm.
# All progress output goes to stderr.
# Environment: SEALED_SECRETS_CLUSTER_DIR, SEALED_SECRETS_K8S_CACHE (see above);
# KUBECTL=path (CRDs are applied with `kubectl apply -f` when kubectl exists,
# KUBECTL=none forces the curl fallback, which POSTs each YAML document).
set -euo pipefail

K8S_VERSION="v1.20.2"
CACHE_DIR="${SEALED_SECRETS_K8S_CACHE:-${HOME:-/root}/.cache/sealed-secrets-ts/k8s-${K8S_VERSION}}"
STATE_DIR="${SEALED_SECRETS_CLUSTER_DIR:-/tmp/sealed-secrets-cluster}"
K8S_BINARIES=(kube-apiserver kube-controller-manager)
NODE_BINARIES=(kubelet kube-scheduler)
COMPONENTS=(etcd kube-apiserver kube-controller-manager)
ETCD_BIN="${ETCD_BIN:-/usr/bin/etcd}"
ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DEBIAN_FRONTEND=noninteractive

log() { printf '[local-cluster] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

. "$ROOT_DIR/scripts/local-cluster-node.sh"

usage() { sed -n '3,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; }

# ---------------------------------------------------------------- apt helpers

apt_update_done=0
apt_update() {
  if [ "$apt_update_done" = 0 ]; then
    log "apt-get update"
    apt-get update >&2
    apt_update_done=1
  fi
}

# ensure_pkgs PKG... : install the missing ones (apt-get update only if needed)
ensure_pkgs() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root or install them"
  for p in "${missing[@]}"; do
    if ! apt-cache show "$p" >/dev/null 2>&1; then apt_update; break; fi
  done
  log "apt-get install ${missing[*]}"
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
    [ "$apt_update_done" = 1 ] && die "apt-get install ${missing[*]} failed"
    apt_update
    apt-get install -y --no-install-recommends "${missing[@]}" >&2
  fi
}

# Make `apt-get source kubernetes` possible: add a deb-src entry if none exists.
ensure_deb_src() {
  if apt-cache showsrc kubernetes 2>/dev/null | grep -q '^Package: kubernetes'; then return 0; fi
  local codename uri f=/etc/apt/sources.list.d/sealed-secrets-ts-deb-src.sources
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
  if ! grep -rqsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    # reuse the mirror of the existing Debian entry
    uri="$(grep -hsE '^[[:space:]]*URIs:.*/debian/?([[:space:]]|$)' /etc/apt/sources.list.d/*.sources | head -n1 | awk '{print $2}')"
    [ -n "$uri" ] || uri="$(grep -hsE '^[[:space:]]*deb[[:space:]].*/debian/?[[:space:]]+'"$codename"'[[:space:]]' /etc/apt/sources.list | head -n1 | awk '{for (i=2;i<=NF;i++) if ($i !~ /^\[/) { print $i; exit } }')"
    [ -n "$uri" ] || uri="http://deb.debian.org/debian"
    log "adding deb-src entry $f ($uri $codename)"
    cat >"$f" <<EOF
Types: deb-src
URIs: $uri
Suites: $codename
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  apt_update_done=0
  apt_update
  apt-cache showsrc kubernetes 2>/dev/null | grep -q '^Package: kubernetes' \
    || die "apt-cache showsrc kubernetes finds nothing even with a deb-src entry"
}

# ---------------------------------------------------------------- build

# binaries_ok NAME... : each is in the cache and reports ${K8S_VERSION}
binaries_ok() {
  local b
  for b in "$@"; do
    [ -x "$CACHE_DIR/$b" ] || return 1
    "$CACHE_DIR/$b" --version 2>/dev/null | grep -q "Kubernetes ${K8S_VERSION}" || return 1
  done
}

build_tmp=""
cleanup_build_tmp() {
  if [ -n "$build_tmp" ] && [ -d "$build_tmp" ]; then
    chmod -R u+w "$build_tmp" 2>/dev/null || true # Go's module cache is read-only
    rm -rf "$build_tmp"
  fi
  build_tmp=""
}

# do_build [node] : the control-plane binaries, plus kubelet and kube-scheduler
# with `node`. One `make` builds every missing binary (they share the code
# generators). Binaries added to an existing cache land there by rename, one
# at a time, so that clusters running from the cache are never disturbed.
do_build() {
  local want=("${K8S_BINARIES[@]}")
  [ "${1:-}" = node ] && want+=("${NODE_BINARIES[@]}")
  binaries_ok "${want[@]}" && return 0
  local root lock
  root="$(dirname "$CACHE_DIR")"
  mkdir -p "$root"
  lock="$root/.k8s-${K8S_VERSION}.build.lock"
  exec 9>"$lock"
  if ! flock -n 9; then
    log "another build is running; waiting for $lock"
    flock 9
  fi
  if binaries_ok "${want[@]}"; then exec 9>&-; return 0; fi
  local missing=() b
  for b in "${want[@]}"; do binaries_ok "$b" || missing+=("$b"); done

  local t0; t0="$(now)"
  log "building ${missing[*]} ${K8S_VERSION} from Debian's kubernetes source package (about 4 min for the control plane, 10 more for kubelet + kube-scheduler on 2 cores; 1.4 GB RAM, 2.5 GB disk)"
  ensure_pkgs golang-go golang-github-modern-go-reflect2-dev make rsync dpkg-dev xz-utils ca-certificates
  ensure_deb_src

  build_tmp="$(mktemp -d "${TMPDIR:-/tmp}/sealed-secrets-k8s-build.XXXXXX")"
  trap 'cleanup_build_tmp' EXIT
  (cd "$build_tmp" && apt-get source --only-source kubernetes >&2)
  local src source_version
  src="$(find "$build_tmp" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | head -n1)"
  { [ -n "$src" ] && [ -d "$src/vendor" ]; } || die "unexpected layout of the kubernetes source package in $build_tmp"
  source_version="$(find "$build_tmp" -maxdepth 1 -name 'kubernetes_*.dsc' | head -n1 | sed -e 's/^.*kubernetes_//' -e 's/\.dsc$//')"

  # The vendored reflect2 v1.0.1 breaks on Go >= 1.18 (the server crashes on
  # the first custom-resource write); use Debian's 1.0.2.
  local r2=/usr/share/gocode/src/github.com/modern-go/reflect2
  [ -d "$r2" ] || die "$r2 not found (golang-github-modern-go-reflect2-dev)"
  rm -rf "$src/vendor/github.com/modern-go/reflect2"
  cp -rL "$r2" "$src/vendor/github.com/modern-go/reflect2"

  local what="" b
  for b in "${missing[@]}"; do what+="${what:+ }cmd/$b"; done
  log "make WHAT=\"$what\" in $src"
  (
    cd "$src"
    unset GOFLAGS GOBIN GOROOT
    export GOCACHE="$build_tmp/gocache" GOPROXY=off GOTOOLCHAIN=local
    export KUBE_GIT_VERSION="${K8S_VERSION}" KUBE_GIT_MAJOR=1 KUBE_GIT_MINOR=20 \
      KUBE_GIT_TREE_STATE=clean KUBE_GIT_COMMIT=debian-source-package
    # a fixed build date keeps the binaries reproducible-ish
    export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(stat -c %Y "$src/go.mod")}"
    make WHAT="$what" >&2
  )

  local staging built
  staging="$(mktemp -d "$root/.k8s-${K8S_VERSION}.staging.XXXXXX")"
  for b in "${missing[@]}"; do
    built="$(find "$src/_output" -type f -name "$b" -perm -u+x | head -n1)"
    [ -n "$built" ] || { rm -rf "$staging"; die "$b was not built"; }
    cp "$built" "$staging/$b"
    chmod 0755 "$staging/$b"
    "$staging/$b" --version >&2 || { rm -rf "$staging"; die "$staging/$b --version failed"; }
    printf '%s\n' "$source_version" >"$staging/$b.source-version"
  done
  chmod 0755 "$staging"
  if binaries_ok "${K8S_BINARIES[@]}"; then
    # the control plane is cached (and may be in use): add the new ones by
    # rename within the cache's file system, never touching the others
    for b in "${missing[@]}"; do
      mv -f "$staging/$b.source-version" "$CACHE_DIR/$b.source-version"
      mv -f "$staging/$b" "$CACHE_DIR/$b"
    done
    rm -rf "$staging"
  else
    if [ -e "$CACHE_DIR" ]; then
      local old; old="$(mktemp -d "$root/.k8s-${K8S_VERSION}.old.XXXXXX")"
      mv -T "$CACHE_DIR" "$old/x" && rm -rf "$old"
    fi
    mv -T "$staging" "$CACHE_DIR"
  fi
  cleanup_build_tmp
  trap - EXIT
  exec 9>&-
  binaries_ok "${want[@]}" || die "the freshly built binaries in $CACHE_DIR do not work"
  log "built ${missing[*]} from kubernetes ${source_version} and cached in $CACHE_DIR in $(elapsed "$t0") s"
}

# ---------------------------------------------------------------- processes

pidfile() { echo "$STATE_DIR/$1.pid"; }

# pid of a running component, or nothing
component_pid() {
  local f pid state
  f="$(pidfile "$1")"
  [ -f "$f" ] || return 1
  pid="$(cat "$f" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/stat" ] || return 1
  state="$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
  [ -n "$state" ] && [ "$state" != Z ] || return 1
  # guard against pid reuse: the command line must name the component
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$1" || return 1
  echo "$pid"
}

is_running() { component_pid "$1" >/dev/null; }

start_component() {
  local name="$1"
  is_running "$name" && die "$name is already running (pid $(component_pid "$name"))"
  rm -f "$(pidfile "$name")"
  printf '\n===== %s start %s =====\n' "$name" "$(date -u +%FT%TZ)" >>"$STATE_DIR/$name.log"
  # the .sh script writes its own pid and execs the binary; detached from our
  # stdout/stderr so that $(local-cluster.sh up) returns
  setsid bash "$STATE_DIR/$name.sh" </dev/null >>"$STATE_DIR/$name.log" 2>&1 &
  local i
  for i in $(seq 1 50); do
    [ -s "$(pidfile "$name")" ] && break
    sleep 0.1
  done
  [ -s "$(pidfile "$name")" ] || die "$name did not start (see $STATE_DIR/$name.log)"
}

stop_component() {
  local name="$1" pid i
  pid="$(component_pid "$name" || true)"
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 30); do
      is_running "$name" || break
      sleep 0.1
    done
    # kube-apiserver's graceful shutdown can wait a minute for open
    # connections; a second SIGTERM makes the Kubernetes binaries exit at once
    if is_running "$name"; then
      kill -TERM "$pid" 2>/dev/null || true
      for i in $(seq 1 50); do
        is_running "$name" || break
        sleep 0.1
      done
    fi
    if is_running "$name"; then
      log "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for i in $(seq 1 50); do
        is_running "$name" || break
        sleep 0.1
      done
    fi
    is_running "$name" && die "could not stop $name (pid $pid)"
    log "stopped $name (pid $pid)"
  fi
  rm -f "$(pidfile "$name")"
}

log_tail() { tail -n "${2:-30}" "$STATE_DIR/$1.log" 2>/dev/null | sed 's/^/    /' >&2 || true; }

# wait_for COMPONENT TIMEOUT_S DESCRIPTION COMMAND...
wait_for() {
  local name="$1" timeout="$2" desc="$3"; shift 3
  local deadline=$(( $(date +%s) + timeout ))
  while :; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if ! is_running "$name"; then
      log "$name exited while waiting for: $desc; last lines of $STATE_DIR/$name.log:"
      log_tail "$name"
      exit 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "timed out after ${timeout}s waiting for: $desc; last lines of $STATE_DIR/$name.log:"
      log_tail "$name"
      exit 1
    fi
    sleep 0.2
  done
}

# ---------------------------------------------------------------- helpers

# free_ports N: N distinct free TCP ports on 127.0.0.1
free_ports() {
  local n="$1"
  if command -v python3 >/dev/null 2>&1 && python3 -c 'import socket' >/dev/null 2>&1; then
    python3 -c '
import socket, sys
ss = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ss.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$n"
  elif command -v node >/dev/null 2>&1; then
    node -e '
const net = require("net"); const n = +process.argv[1]; const ss = [];
(function next() {
  if (ss.length === n) { console.log(ss.map(s => s.address().port).join(" ")); ss.forEach(s => s.close()); return; }
  const s = net.createServer(); s.listen(0, "127.0.0.1", () => { ss.push(s); next(); });
})();' "$n"
  else
    die "need python3 or node to pick free ports"
  fi
}

port_free() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
  else
    node -e 'const s=require("net").createServer(); s.on("error",()=>process.exit(1)); s.listen(+process.argv[1],"127.0.0.1",()=>s.close())' "$1" 2>/dev/null
  fi
}

load_env() {
  [ -f "$STATE_DIR/cluster.env" ] || die "no cluster in $STATE_DIR (run: $0 up --state-dir $STATE_DIR)"
  . "$STATE_DIR/cluster.env"
}

api() { # api PATH [curl args...]
  local path="$1"; shift
  curl -sS --max-time 10 --cacert "$STATE_DIR/pki/ca.crt" -H "Authorization: Bearer $TOKEN" "$@" \
    "https://127.0.0.1:${APISERVER_PORT}${path}"
}

etcd_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:${ETCD_CLIENT_PORT}/health" | grep -q '"health":"true"'; }
apiserver_ready() { [ "$(api /readyz --max-time 3 2>/dev/null)" = ok ]; }
kcm_healthy() { [ "$(curl -sS -k --max-time 3 "https://127.0.0.1:${KCM_PORT}/healthz" 2>/dev/null)" = ok ]; }
gc_synced() { grep -q 'Garbage collector: all resource monitors have synced' "$STATE_DIR/kube-controller-manager.log"; }

# true when every CRD in the cluster is Established
crds_established() {
  local body
  body="$(api /apis/apiextensions.k8s.io/v1/customresourcedefinitions -f)" || return 1
  if command -v node >/dev/null 2>&1; then
    printf '%s' "$body" | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
  const items = JSON.parse(s).items || [];
  const ok = items.every(c => ((c.status || {}).conditions || []).some(x => x.type === "Established" && x.status === "True"));
  process.exit(ok ? 0 : 1);
});'
  else
    printf '%s' "$body" | python3 -c '
import json, sys
items = json.load(sys.stdin).get("items") or []
ok = all(any(c.get("type") == "Established" and c.get("status") == "True" for c in (i.get("status") or {}).get("conditions") or []) for i in items)
sys.exit(0 if ok else 1)'
  fi
}

kubectl_bin() {
  case "${KUBECTL:-}" in
    none) return 0 ;; # KUBECTL=none: apply CRDs with curl
    ?*) echo "$KUBECTL"; return 0 ;;
  esac
  command -v kubectl 2>/dev/null || { [ -x /usr/bin/kubectl ] && echo /usr/bin/kubectl; } || true
}

apply_crd_file() {
  local file="$1" kubectl
  kubectl="$(kubectl_bin)"
  if [ -n "$kubectl" ]; then
    "$kubectl" --kubeconfig "$STATE_DIR/kubeconfig" apply -f "$file" >&2
    return
  fi
  # no kubectl: POST each YAML document (the apiserver accepts YAML bodies)
  local tmp doc code f files=()
  if [ -d "$file" ]; then
    while IFS= read -r f; do files+=("$f"); done < <(find "$file" -maxdepth 1 -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | sort)
  else
    files=("$file")
  fi
  tmp="$(mktemp -d)"
  for f in "${files[@]}"; do
    rm -f "$tmp"/doc.*
    awk -v dir="$tmp" 'BEGIN { n = 0 } /^---/ { n++; next } { print > (dir "/doc." n) }' "$f"
    for doc in "$tmp"/doc.*; do
      [ -e "$doc" ] || continue
      grep -qvE '^[[:space:]]*(#.*)?$' "$doc" || continue
      code="$(api /apis/apiextensions.k8s.io/v1/customresourcedefinitions -o "$tmp/out" -w '%{http_code}' \
        -X POST -H 'Content-Type: application/yaml' --data-binary "@$doc")"
      case "$code" in
        201|200) log "created CRD from $f" ;;
        409) log "CRD from $f already exists" ;;
        *) cat "$tmp/out" >&2; rm -rf "$tmp"; die "creating the CRD from $f failed (HTTP $code)" ;;
      esac
    done
  done
  rm -rf "$tmp"
}

# ---------------------------------------------------------------- certificates, config

write_pki() {
  local pki="$STATE_DIR/pki"
  rm -rf "$pki"; mkdir -p "$pki"; chmod 700 "$pki"
  (
    cd "$pki"
    openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null # EC: fast to generate
    printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\n' >ca.ext
    openssl req -new -key ca.key -subj "/CN=sealed-secrets-local-ca" -out ca.csr 2>/dev/null
    openssl x509 -req -in ca.csr -signkey ca.key -days 3650 -set_serial "0x$(openssl rand -hex 8)" \
      -extfile ca.ext -out ca.crt 2>/dev/null
    openssl ecparam -name prime256v1 -genkey -noout -out apiserver.key 2>/dev/null # EC: fast to generate
    printf '%s\n' \
      'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local' \
      'basicConstraints=critical,CA:FALSE' \
      'keyUsage=critical,digitalSignature' \
      'extendedKeyUsage=serverAuth' \
      'authorityKeyIdentifier=keyid' >apiserver.ext
    openssl req -new -key apiserver.key -subj "/CN=kube-apiserver" -out apiserver.csr 2>/dev/null
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -days 3650 -set_serial "0x$(openssl rand -hex 8)" \
      -extfile apiserver.ext -out apiserver.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    rm -f ./*.csr ./*.ext
  )
  TOKEN="$(openssl rand -hex 32)"
  printf '%s,local-admin,local-admin,"system:masters"\n' "$TOKEN" >"$pki/tokens.csv"
  chmod 600 "$pki"/*.key "$pki/tokens.csv"
}

write_kubeconfig() { # write_kubeconfig FILE
  local ca
  ca="$(base64 -w0 <"$STATE_DIR/pki/ca.crt")"
  cat >"$1.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:${APISERVER_PORT}
    certificate-authority-data: ${ca}
users:
- name: local-admin
  user:
    token: ${TOKEN}
contexts:
- name: local
  context:
    cluster: local
    user: local-admin
    namespace: default
current-context: local
EOF
  chmod 600 "$1.tmp"
  mv -f "$1.tmp" "$1"
}

q() { printf '%q' "$1"; }

# write_command_script NAME BINARY ARGS... : $STATE_DIR/NAME.sh, re-runnable
write_command_script() {
  local name="$1"; shift
  {
    echo '#!/usr/bin/env bash'
    echo "# $name of the local cluster in $(q "$STATE_DIR"); started by scripts/local-cluster.sh"
    echo "echo \$\$ > $(q "$STATE_DIR/$name.pid")"
    printf 'exec'
    local a
    for a in "$@"; do printf ' \\\n  %s' "$(q "$a")"; done
    echo
  } >"$STATE_DIR/$name.sh"
  chmod 755 "$STATE_DIR/$name.sh"
}

write_command_scripts() {
  local pki="$STATE_DIR/pki"
  write_command_script etcd "$ETCD_BIN" \
    --name=local \
    --data-dir="$ETCD_DATA_DIR" \
    --listen-client-urls="http://127.0.0.1:${ETCD_CLIENT_PORT}" \
    --advertise-client-urls="http://127.0.0.1:${ETCD_CLIENT_PORT}" \
    --listen-peer-urls="http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-advertise-peer-urls="http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-cluster="local=http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-cluster-state=new \
    --initial-cluster-token="sealed-secrets-local-${ETCD_CLIENT_PORT}" \
    --logger=zap --log-outputs=stderr --log-level=warn
  write_command_script kube-apiserver "$BIN_DIR/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:${ETCD_CLIENT_PORT}" \
    --bind-address=127.0.0.1 \
    --advertise-address=127.0.0.1 \
    --secure-port="${APISERVER_PORT}" \
    --insecure-port=0 \
    --tls-cert-file="$pki/apiserver.crt" \
    --tls-private-key-file="$pki/apiserver.key" \
    --cert-dir="$STATE_DIR/apiserver-certs" \
    --token-auth-file="$pki/tokens.csv" \
    --authorization-mode=RBAC \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-account-signing-key-file="$pki/sa.key" \
    --service-account-key-file="$pki/sa.pub" \
    --service-cluster-ip-range="${SERVICE_CIDR}" \
    --kubelet-preferred-address-types=Hostname,InternalIP \
    --endpoint-reconciler-type=none \
    --profiling=false \
    --v=1
  write_command_script kube-controller-manager "$BIN_DIR/kube-controller-manager" \
    --kubeconfig="$pki/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$pki/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$pki/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 \
    --secure-port="${KCM_PORT}" \
    --port=0 \
    --cert-dir="$STATE_DIR/controller-manager-certs" \
    --leader-elect=false \
    --controllers="${KCM_CONTROLLERS}" \
    --cluster-signing-cert-file="$pki/ca.crt" \
    --cluster-signing-key-file="$pki/ca.key" \
    --service-account-private-key-file="$pki/sa.key" \
    --root-ca-file="$pki/ca.crt" \
    --use-service-account-credentials=false \
    --profiling=false \
    --v=1
}

# ---------------------------------------------------------------- component start/stop with readiness

start_etcd() {
  local t0; t0="$(now)"
  start_component etcd
  wait_for etcd 30 "etcd health on 127.0.0.1:${ETCD_CLIENT_PORT}" etcd_healthy
  log "etcd ready on 127.0.0.1:${ETCD_CLIENT_PORT} (pid $(component_pid etcd), $(elapsed "$t0") s)"
}
start_apiserver() {
  local t0; t0="$(now)"
  start_component kube-apiserver
  wait_for kube-apiserver 90 "kube-apiserver /readyz on 127.0.0.1:${APISERVER_PORT}" apiserver_ready
  log "kube-apiserver ready on https://127.0.0.1:${APISERVER_PORT} (pid $(component_pid kube-apiserver), $(elapsed "$t0") s)"
}
start_kcm() {
  local t0; t0="$(now)"
  start_component kube-controller-manager
  wait_for kube-controller-manager 60 "kube-controller-manager /healthz on 127.0.0.1:${KCM_PORT}" kcm_healthy
  wait_for kube-controller-manager 90 "garbage collector cache sync" gc_synced
  log "kube-controller-manager ready (pid $(component_pid kube-controller-manager), $(elapsed "$t0") s)"
}

# ---------------------------------------------------------------- commands

cmd_build() {
  if [ "$NODE" = 1 ]; then do_build node; else do_build; fi
  echo "$CACHE_DIR"
}

up_failed_cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    log "up failed (exit $rc); stopping what was started"
    stop_all || true
  fi
  exit "$rc"
}

stop_all() {
  local i
  if [ -d "$STATE_DIR/node" ]; then
    local node_flag="$NODE"
    [ -f "$STATE_DIR/cluster.env" ] && . "$STATE_DIR/cluster.env"
    NODE="$node_flag"
    node_down
  fi
  for (( i=${#COMPONENTS[@]}-1; i>=0; i-- )); do stop_component "${COMPONENTS[$i]}"; done
  local data=""
  if [ -f "$STATE_DIR/cluster.env" ]; then
    data="$(. "$STATE_DIR/cluster.env" && echo "${ETCD_DATA_DIR:-}")"
  fi
  case "$data" in
    /dev/shm/sealed-secrets-etcd.*) rm -rf "$data"; log "removed $data" ;;
  esac
  rm -f "$STATE_DIR/cluster.env" "$STATE_DIR/kubeconfig"
}

cmd_up() {
  local t0; t0="$(now)"
  local c
  mkdir -p "$STATE_DIR"
  STATE_DIR="$(cd "$STATE_DIR" && pwd)"
  for c in "${COMPONENTS[@]}"; do
    if is_running "$c"; then
      die "$c is already running from $STATE_DIR (pid $(component_pid "$c")); run: $0 down --state-dir $STATE_DIR"
    fi
  done
  if [ "$NODE" = 1 ]; then
    for c in containerd kubelet kube-scheduler; do
      is_running "$c" && die "$c is already running from $STATE_DIR; run: $0 down --state-dir $STATE_DIR"
    done
  fi
  { [ -f "$STATE_DIR/cluster.env" ] || [ -d "$STATE_DIR/node" ]; } && stop_all # stale state from a crashed run

  if [ "$NODE" = 1 ]; then
    node_preflight
    do_build node
    SERVICE_CIDR="$SERVICE_CIDR_NODE"
    KCM_CONTROLLERS='*'
  else
    do_build
    SERVICE_CIDR="10.0.0.0/24"
    KCM_CONTROLLERS="garbagecollector,namespace,serviceaccount,serviceaccount-token"
  fi
  ensure_pkgs etcd-server openssl curl
  [ -x "$ETCD_BIN" ] || die "$ETCD_BIN not found"
  local f
  for f in "${CRDS[@]+"${CRDS[@]}"}"; do [ -e "$f" ] || die "CRD file not found: $f"; done

  trap up_failed_cleanup EXIT
  trap 'exit 130' INT TERM

  local ports
  read -r -a ports <<<"$(free_ports 5)"
  [ "${#ports[@]}" -eq 5 ] || die "could not pick free ports"
  if [ "$REQ_PORT" = 0 ]; then
    APISERVER_PORT="${ports[0]}"
  else
    APISERVER_PORT="$REQ_PORT"
    port_free "$APISERVER_PORT" || die "port $APISERVER_PORT is in use"
  fi
  ETCD_CLIENT_PORT="${ports[1]}" ETCD_PEER_PORT="${ports[2]}" KCM_PORT="${ports[3]}" SCHED_PORT="${ports[4]}"
  BIN_DIR="$CACHE_DIR"
  ETCD_DATA_DIR="$(mktemp -d /dev/shm/sealed-secrets-etcd.XXXXXX)"
  chmod 700 "$ETCD_DATA_DIR"

  rm -rf "$STATE_DIR/apiserver-certs" "$STATE_DIR/controller-manager-certs"
  for c in "${COMPONENTS[@]}"; do : >"$STATE_DIR/$c.log"; done
  write_pki
  cat >"$STATE_DIR/cluster.env" <<EOF
# local cluster started $(date -u +%FT%TZ) by scripts/local-cluster.sh
STATE_DIR=$(q "$STATE_DIR")
BIN_DIR=$(q "$BIN_DIR")
ETCD_DATA_DIR=$(q "$ETCD_DATA_DIR")
APISERVER_PORT=${APISERVER_PORT}
ETCD_CLIENT_PORT=${ETCD_CLIENT_PORT}
ETCD_PEER_PORT=${ETCD_PEER_PORT}
KCM_PORT=${KCM_PORT}
SCHED_PORT=${SCHED_PORT}
NODE=${NODE}
SERVICE_CIDR=${SERVICE_CIDR}
KCM_CONTROLLERS='${KCM_CONTROLLERS}'
TOKEN=${TOKEN}
EOF
  chmod 600 "$STATE_DIR/cluster.env"
  write_kubeconfig "$STATE_DIR/pki/controller-manager.kubeconfig"
  write_command_scripts

  start_etcd
  start_apiserver
  write_kubeconfig "$STATE_DIR/kubeconfig"

  if [ "${#CRDS[@]}" -gt 0 ]; then
    local t1; t1="$(now)"
    for f in "${CRDS[@]}"; do
      log "applying $f"
      apply_crd_file "$f"
    done
    wait_for kube-apiserver 60 "CRDs Established" crds_established
    log "CRDs established ($(elapsed "$t1") s)"
  fi

  start_kcm
  [ "$NODE" = 1 ] && node_up
  trap - EXIT INT TERM
  log "cluster up in $(elapsed "$t0") s; state in $STATE_DIR"
  echo "$STATE_DIR/kubeconfig"
}

cmd_down() {
  [ -d "$STATE_DIR" ] || { log "nothing to stop in $STATE_DIR"; return 0; }
  local t0; t0="$(now)"
  stop_all
  log "down ($(elapsed "$t0") s)"
}

cmd_status() {
  local c pid rc=0
  if [ -f "$STATE_DIR/cluster.env" ]; then
    . "$STATE_DIR/cluster.env"
  else
    echo "state dir: $STATE_DIR (no cluster)"
  fi
  local all=("${COMPONENTS[@]}")
  [ "${NODE:-0}" = 1 ] && all+=(containerd kube-scheduler kubelet)
  for c in "${all[@]}"; do
    if pid="$(component_pid "$c")"; then
      echo "$c: running (pid $pid)"
    else
      echo "$c: stopped"; rc=3
    fi
  done
  if [ -f "$STATE_DIR/cluster.env" ]; then
    echo "etcd: http://127.0.0.1:${ETCD_CLIENT_PORT} data ${ETCD_DATA_DIR}"
    if apiserver_ready; then
      echo "kube-apiserver: https://127.0.0.1:${APISERVER_PORT} ready"
    else
      echo "kube-apiserver: https://127.0.0.1:${APISERVER_PORT} NOT ready"; rc=3
    fi
    echo "kubeconfig: $STATE_DIR/kubeconfig"
  fi
  return "$rc"
}

cmd_component() { # cmd_component stop|start|restart etcd|kube-apiserver|kube-controller-manager
  local action="$1" name="$2"
  load_env
  case "$action" in
    stop|restart) stop_component "$name" ;;
  esac
  case "$action" in
    start|restart)
      case "$name" in
        etcd) start_etcd ;;
        kube-apiserver) start_apiserver ;;
        kube-controller-manager) start_kcm ;;
      esac ;;
  esac
}

# ---------------------------------------------------------------- main

[ $# -ge 1 ] || { usage; exit 2; }
CMD="$1"; shift
CRDS=()
REQ_PORT=0
NODE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --crd) [ $# -ge 2 ] || die "--crd needs a file"; CRDS+=("$2"); shift 2 ;;
    --crd=*) CRDS+=("${1#--crd=}"); shift ;;
    --state-dir) [ $# -ge 2 ] || die "--state-dir needs a directory"; STATE_DIR="$2"; shift 2 ;;
    --state-dir=*) STATE_DIR="${1#--state-dir=}"; shift ;;
    --port) [ $# -ge 2 ] || die "--port needs a number"; REQ_PORT="$2"; shift 2 ;;
    --port=*) REQ_PORT="${1#--port=}"; shift ;;
    --node) NODE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see $0 --help)" ;;
  esac
done
[[ "$REQ_PORT" =~ ^[0-9]+$ ]] || die "--port must be a number"
if [ -d "$STATE_DIR" ]; then STATE_DIR="$(cd "$STATE_DIR" && pwd)"; fi

case "$CMD" in
  build) cmd_build ;;
  guard-check) guard_in_place || { log "the egress guard recorded in $STATE_DIR/node is not in place"; exit 1; } ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  kubeconfig) load_env; echo "$STATE_DIR/kubeconfig" ;;
  stop-etcd) cmd_component stop etcd ;;
  start-etcd) cmd_component start etcd ;;
  restart-etcd) cmd_component restart etcd ;;
  stop-apiserver) cmd_component stop kube-apiserver ;;
  start-apiserver) cmd_component start kube-apiserver ;;
  restart-apiserver) cmd_component restart kube-apiserver ;;
  stop-controller-manager) cmd_component stop kube-controller-manager ;;
  start-controller-manager) cmd_component start kube-controller-manager ;;
  restart-controller-manager) cmd_component restart kube-controller-manager ;;
  -h|--help|help) usage ;;
  *) usage; exit 2 ;;
esac
