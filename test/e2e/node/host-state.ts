/** What `scripts/local-cluster.sh up --node` may change on this machine, as one comparable record. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const sh = (cmd: string, args: string[]) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
};

export const NODE_SYSCTLS = ['vm.overcommit_memory', 'kernel.panic', 'kernel.panic_on_oops', 'net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding'];
const NODE_PROCESSES = new Set(['containerd', 'kubelet', 'kube-scheduler', 'containerd-shim', 'containerd-shim-runc-v2', 'pause', 'runc']);

export interface HostState {
  iptables: string[];
  sysctls: Record<string, string>;
  /** bridges and veths (the node's kind of link) */
  links: string[];
  /** mounts of the kinds the node makes: netns, Pod volumes, container root filesystems */
  mounts: string[];
  netns: string[];
  processes: string[];
  kubepodsCgroups: string[];
  /** files kubelet and the CNI plugins write outside the state directory */
  dirs: string[];
}

export function hostState(): HostState {
  const iptables = [
    ...sh('iptables', ['-w', '-S']).split('\n'),
    ...sh('iptables', ['-w', '-t', 'nat', '-S']).split('\n').map((l) => `nat ${l}`),
    ...sh('ip6tables', ['-w', '-S']).split('\n').map((l) => `ip6 ${l}`),
  ].filter(Boolean);
  const sysctls = Object.fromEntries(NODE_SYSCTLS.map((k) => [k, sh('sysctl', ['-n', k]).trim()]));
  const links = sh('ip', ['-o', 'link', 'show'])
    .split('\n')
    .map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1] ?? '')
    .filter((n) => /^(veth|ssts|cni|cbr)/.test(n))
    .sort();
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => /^\/run\/netns\/cni-|kubelet|containerd|\/ss-node-cluster-/.test(m))
    .sort();
  const netns = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith('cni-')).sort() : [];
  const processes = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map((p) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      } catch {
        return '';
      }
    })
    .filter((c) => NODE_PROCESSES.has(c))
    .sort();
  const kubepodsCgroups = readdirSync('/sys/fs/cgroup').filter((c) => existsSync(`/sys/fs/cgroup/${c}/kubepods`)).sort();
  const dirs = ['/var/log/pods', '/var/log/containers', '/var/lib/cni', '/run/sealed-secrets-ts-node.owner'].filter((d) => existsSync(d));
  return { iptables, sysctls, links, mounts, netns, processes, kubepodsCgroups, dirs };
}
