/**
 * A test host in a network namespace of our own, so that the API server's service
 * proxy can reach the locally running controller: Endpoints may not point at
 * loopback addresses, so the Service's endpoint is the namespace's address, where
 * a small TCP forwarder passes connections to the controller on our end of the link.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';

export interface TestHost {
  /** Our end of the link: the controller listens here. */
  hostIp: string;
  /** The namespace's address: the Service endpoint. */
  peerIp: string;
  forward(peerPort: number, targetPort: number): Promise<void>;
  close(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

export function createTestHost(): TestHost {
  const id = randomInt(1, 60000);
  const ns = `ss-e2e-${id}`;
  const a = `sse${id}a`;
  const b = `sse${id}b`;
  const net = `10.213.${id % 250}.${(Math.floor(id / 250) % 63) * 4}`;
  const [p1, p2, p3, p4] = net.split('.').map(Number) as [number, number, number, number];
  const hostIp = `${p1}.${p2}.${p3}.${p4 + 1}`;
  const peerIp = `${p1}.${p2}.${p3}.${p4 + 2}`;
  ip('netns', 'add', ns);
  ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', ns);
  ip('addr', 'add', `${hostIp}/30`, 'dev', a);
  ip('link', 'set', a, 'up');
  ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${peerIp}/30`, 'dev', b);
  ip('netns', 'exec', ns, 'ip', 'link', 'set', b, 'up');
  ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  const forwarders: ChildProcess[] = [];
  return {
    hostIp,
    peerIp,
    async forward(peerPort, targetPort) {
      const script = `const net=require('net');net.createServer(c=>{const u=net.connect(${targetPort},'${hostIp}');c.pipe(u);u.pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy());}).listen(${peerPort},'${peerIp}',()=>console.log('ready'));`;
      const p = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      forwarders.push(p);
      await new Promise<void>((resolve, reject) => {
        p.stdout!.once('data', () => resolve());
        p.once('exit', (code) => reject(new Error(`forwarder exited with ${code}`)));
      });
    },
    close() {
      for (const p of forwarders) p.kill('SIGKILL');
      try {
        ip('link', 'del', a);
      } catch {
        // Deleting the namespace removes the link too.
      }
      try {
        ip('netns', 'del', ns);
      } catch {
        // Already gone.
      }
    },
  };
}
