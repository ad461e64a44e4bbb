# shellcheck shell=bash
# shellcheck disable=SC2154  # variables come from scripts/local-cluster.sh, which sources this file
# The node of `scripts/local-cluster.sh up --node`: containerd 1.6 + runc + the CNI bridge plugin,
# kubelet and kube-scheduler v1.20.2, on one Pod bridge, with an egress guard so that nothing the
# node or its Pods do leaves this machine. Sourced by scripts/local-cluster.sh.
# Facts and reasons for every setting: the project's reference notes on a real node (real-node.md).
#
# Only one node can run on a machine at a time (fixed bridge, ports 10250/10248 of kubelet,
# /var/log/pods): the owner is recorded in $NODE_OWNER_FILE.
#
# Everything `up --node` changes on the host is recorded in $STATE_DIR/node/ (sysctls.before,
# iptables.rules, netns.before, ...) and undone by `down`, in reverse order.

NODE_BRIDGE="${SEALED_SECRETS_NODE_BRIDGE:-ssts0}"
NODE_SUBNET="10.244.0.0/24"
NODE_IP="10.244.0.1"
SERVICE_CIDR_NODE="10.96.0.0/12"
SERVICE_IP="10.96.0.1"
NODE_OWNER_FILE="/run/sealed-secrets-ts-node.owner"
PAUSE_IMAGE="sealed-secrets-ts/pause:3.2-local"
NODE_SYSCTLS=(vm.overcommit_memory kernel.panic kernel.panic_on_oops net.ipv4.ip_forward "net.ipv4.conf.${NODE_BRIDGE}.route_localnet")
NODE_PACKAGES=(containerd runc containernetworking-plugins iptables gcc libc6-dev)
# The comment on every iptables rule we add: down deletes exactly these.
IPT_TAG="sealed-secrets-ts-node"

node_dir() { echo "$STATE_DIR/node"; }
node_log() { printf '%s %s\n' "$(date -u +%FT%T.%3NZ)" "$*" >>"$(node_dir)/node-steps.log"; log "node: $*"; }

# ---------------------------------------------------------------- egress guard

# The rules, one per line: "TABLE CHAIN RULE..." (inserted at the top of the chain).
guard_rules() {
  cat <<EOF
filter OUTPUT -d 169.254.0.0/16 -j REJECT
filter FORWARD -i ${NODE_BRIDGE} ! -o ${NODE_BRIDGE} -j DROP
filter FORWARD -o ${NODE_BRIDGE} ! -i ${NODE_BRIDGE} -j DROP
EOF
}
ip6_guard_rules() {
  cat <<EOF
filter OUTPUT -d fe80::a9fe:a9fe/128 -j REJECT
filter FORWARD -i ${NODE_BRIDGE} -j DROP
filter FORWARD -o ${NODE_BRIDGE} -j DROP
EOF
}
service_rules() {
  cat <<EOF
nat PREROUTING -i ${NODE_BRIDGE} -d ${SERVICE_IP}/32 -p tcp --dport 443 -j DNAT --to-destination 127.0.0.1:${APISERVER_PORT}
EOF
}

# ipt_add iptables|ip6tables TABLE CHAIN RULE... : insert once, tagged, recorded for down
ipt_add() {
  local cmd="$1" table="$2" chain="$3"; shift 3
  local tag=(-m comment --comment "${IPT_TAG}:${STATE_DIR}")
  if ! "$cmd" -w -t "$table" -C "$chain" "$@" "${tag[@]}" 2>/dev/null; then
    "$cmd" -w -t "$table" -I "$chain" 1 "$@" "${tag[@]}"
  fi
  printf '%s %s %s %s\n' "$cmd" "$table" "$chain" "$*" >>"$(node_dir)/iptables.rules"
}

# The rules recorded by up are all in place (kubelet.sh runs this before exec'ing kubelet).
guard_in_place() {
  local cmd table chain rule
  [ -s "$(node_dir)/iptables.rules" ] || return 1
  while read -r cmd table chain rule; do
    # shellcheck disable=SC2086  # the rule is a word list
    "$cmd" -w -t "$table" -C "$chain" $rule -m comment --comment "${IPT_TAG}:${STATE_DIR}" 2>/dev/null || return 1
  done <"$(node_dir)/iptables.rules"
}

install_guard() {
  local table chain rule
  : >"$(node_dir)/iptables.rules"
  while read -r table chain rule; do
    # shellcheck disable=SC2086
    ipt_add iptables "$table" "$chain" $rule
  done < <(guard_rules)
  if command -v ip6tables >/dev/null 2>&1 && ip6tables -w -S >/dev/null 2>&1; then
    while read -r table chain rule; do
      # shellcheck disable=SC2086
      ipt_add ip6tables "$table" "$chain" $rule
    done < <(ip6_guard_rules)
  fi
  guard_in_place || die "the egress guard is not in place after installing it"
  node_log "guard: egress guard installed ($(wc -l <"$(node_dir)/iptables.rules") rules)"
}

remove_guard() {
  local f; f="$(node_dir)/iptables.rules"
  [ -f "$f" ] || return 0
  local cmd table chain rule
  # reverse order: the DNAT and the bridge rules go before the guard
  while read -r cmd table chain rule; do
    # shellcheck disable=SC2086
    while "$cmd" -w -t "$table" -C "$chain" $rule -m comment --comment "${IPT_TAG}:${STATE_DIR}" 2>/dev/null; do
      "$cmd" -w -t "$table" -D "$chain" $rule -m comment --comment "${IPT_TAG}:${STATE_DIR}"
    done
  done < <(tac "$f")
  rm -f "$f"
  log "node: removed our iptables rules"
}

# ---------------------------------------------------------------- sysctls

record_sysctls() {
  local f; f="$(node_dir)/sysctls.before"
  [ -s "$f" ] && return 0 # a retried up keeps the first record
  local k v
  : >"$f.tmp"
  for k in "${NODE_SYSCTLS[@]}"; do
    v="$(sysctl -n "$k" 2>/dev/null || echo ABSENT)"
    printf '%s=%s\n' "$k" "$v" >>"$f.tmp"
  done
  mv "$f.tmp" "$f"
}

restore_sysctls() {
  local f; f="$(node_dir)/sysctls.before"
  [ -f "$f" ] || return 0
  local k v
  while IFS='=' read -r k v; do
    [ "$v" = ABSENT ] && continue
    [ "$(sysctl -n "$k" 2>/dev/null)" = "$v" ] && continue
    sysctl -q -w "$k=$v" >/dev/null 2>&1 || log "node: could not restore $k=$v"
  done <"$f"
  rm -f "$f"
  log "node: sysctls restored"
}

# ---------------------------------------------------------------- network

bridge_up() {
  if ! ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
    ip link add "$NODE_BRIDGE" type bridge
    echo "$NODE_BRIDGE" >"$(node_dir)/bridge.made"
  fi
  ip addr replace "${NODE_IP}/24" dev "$NODE_BRIDGE"
  ip link set "$NODE_BRIDGE" up
  sysctl -q -w "net.ipv4.conf.${NODE_BRIDGE}.route_localnet=1" >/dev/null
  node_log "bridge: $NODE_BRIDGE ${NODE_IP}/24 up"
}

bridge_down() {
  local v
  # veths left attached to our bridge (normally removed with their netns)
  for v in $(ip -o link show master "$NODE_BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip link del "$v" 2>/dev/null || true
  done
  if [ -f "$(node_dir)/bridge.made" ] && ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
    ip link del "$NODE_BRIDGE"
    log "node: removed bridge $NODE_BRIDGE"
  fi
  rm -f "$(node_dir)/bridge.made"
}

write_cni_config() {
  local d; d="$(node_dir)/cni"
  mkdir -p "$d/net.d"
  cat >"$d/net.d/10-sealed-secrets.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "sealed-secrets-ts",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "${NODE_BRIDGE}",
      "isGateway": true,
      "hairpinMode": true,
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "dataDir": "$d/ipam",
        "ranges": [[{ "subnet": "${NODE_SUBNET}", "gateway": "${NODE_IP}" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    }
  ]
}
EOF
}

# ---------------------------------------------------------------- containerd

write_containerd_config() {
  local d; d="$(node_dir)"
  mkdir -p "$d/containerd/root" "$d/containerd/state" "$d/containerd/certs.d"
  # No registry is reachable or may be contacted: every registry host resolves to a closed
  # loopback port, so a missing image fails at once instead of being pulled from the Internet.
  local h
  for h in _default docker.io registry.k8s.io k8s.gcr.io gcr.io quay.io ghcr.io; do
    mkdir -p "$d/containerd/certs.d/$h"
    printf 'server = "http://127.0.0.1:9"\n[host."http://127.0.0.1:9"]\n  capabilities = ["pull", "resolve"]\n' >"$d/containerd/certs.d/$h/hosts.toml"
  done
  cat >"$d/containerd/config.toml" <<EOF
version = 2
root = "$d/containerd/root"
state = "$d/containerd/state"
[grpc]
  address = "$d/containerd/containerd.sock"
[ttrpc]
  address = "$d/containerd/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$d/cni/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$d/containerd/certs.d"
EOF
}

ctr_() { ctr --address "$(node_dir)/containerd/containerd.sock" -n k8s.io "$@"; }
containerd_ready() { ctr_ version >/dev/null 2>&1; }

# ---------------------------------------------------------------- images

build_pause_image() {
  local d; d="$(node_dir)/images"
  mkdir -p "$d"
  cat >"$d/pause.c" <<'EOF'
/* The Pod sandbox's process: sleeps until SIGTERM/SIGINT, reaps children. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static void quit(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, NULL, WNOHANG) > 0) {} }
int main(void) {
  signal(SIGINT, quit);
  signal(SIGTERM, quit);
  signal(SIGCHLD, reap);
  for (;;) pause();
}
EOF
  gcc -static -O2 -o "$d/pause" "$d/pause.c"
  node "$ROOT_DIR/scripts/build-image.mjs" pause --binary "$d/pause" --tag "$PAUSE_IMAGE" --out "$d/pause.tar" >&2
  ctr_ images import --no-unpack=false "$d/pause.tar" >&2 2>/dev/null || ctr_ images import "$d/pause.tar" >&2
  node_log "image: $PAUSE_IMAGE imported"
}

build_controller_image() {
  local d; d="$(node_dir)/images"
  mkdir -p "$d"
  local tag
  # SEALED_SECRETS_IMAGE_NO_BUILD=1: dist/ is already built (npm test builds it first) and other test
  # runs are using it right now; rebuilding it under them would race (a half-written dist/kubeseal.cjs).
  local build=()
  [ "${SEALED_SECRETS_IMAGE_NO_BUILD:-}" = 1 ] && build=(--no-build)
  tag="$(node "$ROOT_DIR/scripts/build-image.mjs" controller --out "$d/controller.tar" "${build[@]}")"
  ctr_ images import "$d/controller.tar" >&2
  node_log "image: $tag imported"
}

# ---------------------------------------------------------------- kubelet, scheduler

write_node_scripts() {
  local d; d="$(node_dir)"
  local pki="$STATE_DIR/pki"
  mkdir -p "$d/kubelet-root" "$d/kubelet-certs"
  cat >"$d/kubelet-config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failSwapOn: false
address: 127.0.0.1
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
makeIPTablesUtilChains: false
podCIDR: ${NODE_SUBNET}
clusterDomain: cluster.local
nodeStatusUpdateFrequency: 1s
resolvConf: ""
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: "100Mi"
  nodefs.available: "1%"
  imagefs.available: "1%"
serializeImagePulls: false
EOF
  # kubelet.sh refuses to start kubelet unless the egress guard is in place
  {
    echo '#!/usr/bin/env bash'
    echo "# kubelet of the local node in $(q "$STATE_DIR"); started by scripts/local-cluster.sh"
    echo "SEALED_SECRETS_GUARD_CHECK=1 bash $(q "$ROOT_DIR/scripts/local-cluster.sh") guard-check --state-dir $(q "$STATE_DIR") || { echo 'kubelet NOT started: the egress guard is not in place' >&2; exit 1; }"
    echo "echo \$\$ > $(q "$STATE_DIR/kubelet.pid")"
    echo "export AWS_EC2_METADATA_DISABLED=true"
    printf 'exec'
    local a
    for a in "$CACHE_DIR/kubelet" \
      --config="$d/kubelet-config.yaml" \
      --kubeconfig="$pki/controller-manager.kubeconfig" \
      --container-runtime=remote \
      --container-runtime-endpoint="unix://$d/containerd/containerd.sock" \
      --image-service-endpoint="unix://$d/containerd/containerd.sock" \
      --runtime-request-timeout=2m \
      --root-dir="$d/kubelet-root" \
      --cert-dir="$d/kubelet-certs" \
      --node-ip="$NODE_IP" \
      --pod-infra-container-image="$PAUSE_IMAGE" \
      --cloud-provider= \
      --v=1; do printf ' \\\n  %s' "$(q "$a")"; done
    echo
  } >"$STATE_DIR/kubelet.sh"
  chmod 755 "$STATE_DIR/kubelet.sh"
  write_command_script containerd /usr/bin/containerd --config "$d/containerd/config.toml"
  write_command_script kube-scheduler "$CACHE_DIR/kube-scheduler" \
    --kubeconfig="$pki/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$pki/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$pki/controller-manager.kubeconfig" \
    --leader-elect=false \
    --address=127.0.0.1 \
    --port="${SCHED_PORT}" \
    --bind-address=127.0.0.1 \
    --secure-port=0 \
    --profiling=false \
    --v=1
}

scheduler_healthy() { [ "$(curl -sS --max-time 3 "http://127.0.0.1:${SCHED_PORT}/healthz" 2>/dev/null)" = ok ]; }
kubelet_healthy() { [ "$(curl -sS --max-time 3 "http://127.0.0.1:10248/healthz" 2>/dev/null)" = ok ]; }
node_ready() {
  api "/api/v1/nodes" -f | node -e '
let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
  const n = (JSON.parse(s).items || []);
  process.exit(n.some(x => (x.status.conditions || []).some(c => c.type === "Ready" && c.status === "True")) ? 0 : 1);
});'
}

# ---------------------------------------------------------------- up / down

node_preflight() {
  [ "$(id -u)" = 0 ] || die "--node needs root (containerd, iptables, cgroups)"
  if [ -f "$NODE_OWNER_FILE" ]; then
    local other; other="$(cat "$NODE_OWNER_FILE")"
    if [ "$other" != "$STATE_DIR" ] && [ -d "$other/node" ]; then
      die "a node is already running from $other (only one node per machine); stop it with: $0 down --state-dir $other"
    fi
  fi
  ip link show "$NODE_BRIDGE" >/dev/null 2>&1 && [ ! -f "$(node_dir)/bridge.made" ] \
    && die "a link named $NODE_BRIDGE exists and is not ours; set SEALED_SECRETS_NODE_BRIDGE"
  bash "$ROOT_DIR/scripts/ensure-debian-packages.sh" "${NODE_PACKAGES[@]}"
}

node_up() {
  local t0; t0="$(now)"
  local d; d="$(node_dir)"
  mkdir -p "$d"
  : >"$d/node-steps.log"
  echo "$STATE_DIR" >"$NODE_OWNER_FILE"
  record_sysctls
  ls /run/netns 2>/dev/null >"$d/netns.before" || true
  [ -d /var/log/pods ] && echo yes >"$d/var-log-pods.existed"
  [ -d /var/lib/cni ] && echo yes >"$d/var-lib-cni.existed"
  [ -d /var/log/containers ] && echo yes >"$d/var-log-containers.existed"
  # the guard first: nothing of the node runs before it
  install_guard
  bridge_up
  local table chain rule
  while read -r table chain rule; do
    # shellcheck disable=SC2086
    ipt_add iptables "$table" "$chain" $rule
  done < <(service_rules)
  node_log "service: ${SERVICE_IP}:443 -> 127.0.0.1:${APISERVER_PORT}"
  write_cni_config
  write_containerd_config
  write_node_scripts
  : >"$STATE_DIR/containerd.log"; : >"$STATE_DIR/kubelet.log"; : >"$STATE_DIR/kube-scheduler.log"
  start_component containerd
  wait_for containerd 30 "containerd on $d/containerd/containerd.sock" containerd_ready
  node_log "containerd: ready (pid $(component_pid containerd))"
  build_pause_image
  build_controller_image
  start_component kube-scheduler
  wait_for kube-scheduler 60 "kube-scheduler /healthz on 127.0.0.1:${SCHED_PORT}" scheduler_healthy
  node_log "kube-scheduler: ready (pid $(component_pid kube-scheduler))"
  guard_in_place || die "the egress guard is gone; not starting kubelet"
  node_log "kubelet: starting (guard verified)"
  start_component kubelet
  wait_for kubelet 90 "kubelet /healthz on 127.0.0.1:10248" kubelet_healthy
  wait_for kubelet 90 "the Node Ready" node_ready
  node_log "kubelet: node Ready (pid $(component_pid kubelet))"
  log "node up in $(elapsed "$t0") s"
}

# Pods deleted through the API (kubelet tears their networks down), then everything else.
node_down() {
  local d; d="$(node_dir)"
  [ -d "$d" ] || return 0
  if is_running kubelet && [ -n "${APISERVER_PORT:-}" ] && apiserver_ready; then
    local ns
    for ns in $(api /api/v1/namespaces -f 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const n of JSON.parse(s).items||[])console.log(n.metadata.name)})' 2>/dev/null); do
      api "/apis/apps/v1/namespaces/$ns/deployments" -X DELETE -o /dev/null 2>/dev/null || true
      api "/apis/apps/v1/namespaces/$ns/replicasets" -X DELETE -o /dev/null 2>/dev/null || true
      api "/api/v1/namespaces/$ns/pods" -X DELETE -o /dev/null 2>/dev/null || true
    done
    local i n
    for i in $(seq 1 150); do
      n="$(api /api/v1/pods -f 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log((JSON.parse(s).items||[]).length))' 2>/dev/null || echo 0)"
      [ "$n" = 0 ] && break
      # Pods whose grace period runs long are removed at once
      [ "$i" = 50 ] && for ns in $(api /api/v1/pods -f 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const p of JSON.parse(s).items||[])console.log(p.metadata.namespace+"/"+p.metadata.name)})' 2>/dev/null); do
        api "/api/v1/namespaces/${ns%%/*}/pods/${ns#*/}" -X DELETE -H 'Content-Type: application/json' --data '{"gracePeriodSeconds":0}' -o /dev/null 2>/dev/null || true
      done
      sleep 0.2
    done
    # kubelet removes the sandboxes (and their netns) once the Pods are gone
    for i in $(seq 1 100); do
      [ -z "$(ctr_ tasks ls -q 2>/dev/null)" ] && break
      sleep 0.2
    done
    log "node: Pods deleted through the API"
  fi
  stop_component kubelet
  stop_component kube-scheduler
  if is_running containerd; then
    local t c
    for t in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true; done
    sleep 0.5
    for t in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks rm -f "$t" >/dev/null 2>&1 || true; done
    for c in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers rm "$c" >/dev/null 2>&1 || true; done
  fi
  stop_component containerd
  # shims of our containerd (they outlive it by design)
  local pid
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $d/containerd/containerd.sock" 2>/dev/null); do
    kill -KILL "$pid" 2>/dev/null || true
  done
  # network namespaces made by the CRI plugin
  local nsname
  for nsname in $(ls /run/netns 2>/dev/null); do
    grep -qxF "$nsname" "$d/netns.before" 2>/dev/null && continue
    case "$nsname" in cni-*) umount "/run/netns/$nsname" 2>/dev/null || true; rm -f "/run/netns/$nsname"; ip netns del "$nsname" 2>/dev/null || true ;; esac
  done
  # mounts under our directories (deepest first)
  local m
  for m in $(awk '{print $2}' /proc/mounts | grep -F "$d/" | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  # kubelet's cgroups
  local ctl
  for ctl in /sys/fs/cgroup/*/; do
    [ -d "${ctl}kubepods" ] || continue
    find "${ctl}kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  bridge_down
  remove_guard
  restore_sysctls
  [ -f "$d/var-log-pods.existed" ] || rm -rf /var/log/pods
  [ -f "$d/var-log-containers.existed" ] || rm -rf /var/log/containers
  [ -f "$d/var-lib-cni.existed" ] || rm -rf /var/lib/cni
  chmod -R u+w "$d" 2>/dev/null || true
  rm -rf "$d"
  if [ -f "$NODE_OWNER_FILE" ] && [ "$(cat "$NODE_OWNER_FILE")" = "$STATE_DIR" ]; then rm -f "$NODE_OWNER_FILE"; fi
  log "node: down"
}
