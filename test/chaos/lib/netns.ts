/**
 * A network of test hosts made of Linux network namespaces: one namespace per
 * host, each with loopback and one veth into a switch namespace that holds two
 * bridges. All hosts start on br0; a partition moves some hosts' ports to br1,
 * so each side still works within itself, and the heal moves them back. Host
 * i is 10.213.(i+1).10 on one /16 link: one address per /24, as hosts of
 * different operators are, since routing tables admit only a few contacts per
 * /24 (docs/protocol.md, "Routing rules"). The addresses exist only inside
 * these namespaces, which have no route anywhere else. Everything is made and removed here; it
 * needs root (CAP_NET_ADMIN) and iproute2.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The ip and tc commands, where Debian puts them even when PATH lacks sbin. */
const sbin = (name: string): string => ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].map((dir) => `${dir}/${name}`).find(existsSync) ?? name;
export const IP = sbin('ip');
const TC = sbin('tc');

export interface Host {
  readonly index: number;
  /** The host's network namespace. */
  readonly ns: string;
  /** Its one address, on its veth. */
  readonly address: string;
}

export interface NetworkOptions {
  /** Namespace names start with it; `dgc-PID` keeps concurrent runs apart. */
  readonly prefix: string;
  readonly hosts: number;
  /** The first two octets of the hosts' /16; host i gets PREFIX.(i+1).10. */
  readonly prefix16?: string;
  /** A per-host egress rate cap with the kernel's tbf qdisc (netem is missing, tbf is not). */
  readonly rateMbit?: number;
}

const ip = (...args: string[]): string => execFileSync(IP, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const tryIp = (...args: string[]): boolean => {
  try {
    ip(...args);
    return true;
  } catch {
    return false;
  }
};

const errorText = (error: unknown): string => {
  const stderr = (error as { stderr?: Buffer | string }).stderr;
  return (stderr ? String(stderr) : (error as Error).message).trim();
};

/** Whether this process may make namespaces, veth pairs and bridges; if not, why. */
export const probeNamespaces = (): { ok: true } | { ok: false; reason: string } => {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux, this is ${process.platform}` };
  const probe = `dgc-probe-${process.pid}`;
  try {
    ip('-V');
  } catch {
    return { ok: false, reason: 'the ip command (iproute2) is not installed' };
  }
  try {
    ip('netns', 'add', probe);
  } catch (error) {
    return { ok: false, reason: `cannot create a network namespace (root, with CAP_SYS_ADMIN and CAP_NET_ADMIN, is needed): ${errorText(error)}` };
  }
  try {
    ip('-n', probe, 'link', 'add', 'probe0', 'type', 'veth', 'peer', 'name', 'probe1');
    ip('-n', probe, 'link', 'add', 'probebr', 'type', 'bridge');
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: `cannot create veth pairs or bridges in a namespace: ${errorText(error)}` };
  } finally {
    tryIp('netns', 'del', probe);
  }
};

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Removes namespaces left by an earlier run that died before its teardown:
 * names `dgc-PID-…` whose PID is gone. The processes still inside them were
 * started by that run; they are ended by their ids first.
 */
export const removeStaleNamespaces = (): string[] => {
  const removed: string[] = [];
  for (const line of ip('netns', 'list').split('\n')) {
    const name = line.split(' ')[0];
    const match = /^dgc-(\d+)-/.exec(name);
    if (!match || isAlive(Number(match[1]))) continue;
    for (const pid of ip('netns', 'pids', name).split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    if (tryIp('netns', 'del', name)) removed.push(name);
  }
  return removed;
};

export class TestNetwork {
  readonly hosts: readonly Host[];
  readonly switchNs: string;
  /** Whether the tbf rate cap could be applied on every host. */
  readonly rateCapped: boolean;
  private readonly created: string[] = [];
  private partitioned: readonly number[] = [];

  private constructor(options: NetworkOptions) {
    const prefix16 = options.prefix16 ?? '10.213';
    if (options.hosts > 254) throw new RangeError('at most 254 hosts, one per /24 of the /16');
    this.switchNs = `${options.prefix}-sw`;
    this.hosts = Array.from({ length: options.hosts }, (_, index) => ({ index, ns: `${options.prefix}-h${index}`, address: `${prefix16}.${index + 1}.10` }));
    let rateCapped = options.rateMbit !== undefined;
    try {
      this.addNamespace(this.switchNs);
      for (const bridge of ['br0', 'br1']) {
        ip('-n', this.switchNs, 'link', 'add', bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
        ip('-n', this.switchNs, 'link', 'set', bridge, 'up');
      }
      for (const host of this.hosts) {
        this.addNamespace(host.ns);
        const port = this.portOf(host.index);
        ip('-n', this.switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns);
        ip('-n', this.switchNs, 'link', 'set', port, 'master', 'br0');
        ip('-n', this.switchNs, 'link', 'set', port, 'up');
        ip('-n', host.ns, 'addr', 'add', `${host.address}/16`, 'dev', 'eth0');
        ip('-n', host.ns, 'link', 'set', 'eth0', 'up');
        if (options.rateMbit !== undefined) {
          try {
            execFileSync(IP, ['netns', 'exec', host.ns, TC, 'qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', `${options.rateMbit}mbit`, 'burst', '64kb', 'latency', '100ms'], { stdio: 'pipe' });
          } catch {
            rateCapped = false;
          }
        }
      }
    } catch (error) {
      this.destroy();
      throw new Error(`could not build the test network: ${errorText(error)}`);
    }
    this.rateCapped = rateCapped;
  }

  static create(options: NetworkOptions): TestNetwork {
    return new TestNetwork(options);
  }

  /** Cuts the hosts given from the others: their ports move to a second bridge, where they still reach each other. */
  partition(side: readonly number[]): void {
    for (const index of side) ip('-n', this.switchNs, 'link', 'set', this.portOf(index), 'master', 'br1');
    this.partitioned = [...side];
  }

  heal(): void {
    for (const index of this.partitioned) ip('-n', this.switchNs, 'link', 'set', this.portOf(index), 'master', 'br0');
    this.partitioned = [];
  }

  /** The host indexes whose ports are on each bridge, as the kernel reports them. */
  bridges(): { br0: number[]; br1: number[] } {
    const on = (bridge: string): number[] =>
      (JSON.parse(ip('-j', '-n', this.switchNs, 'link', 'show', 'master', bridge)) as Array<{ ifname: string }>)
        .map((link) => Number(/^h(\d+)$/.exec(link.ifname.split('@')[0])?.[1]))
        .filter((i) => Number.isInteger(i))
        .sort((a, b) => a - b);
    return { br0: on('br0'), br1: on('br1') };
  }

  /** Deletes every namespace made (their veths go with them). Idempotent; never throws. */
  destroy(): void {
    while (this.created.length > 0) tryIp('netns', 'del', this.created.pop()!);
  }

  private portOf(index: number): string {
    return `h${index}`;
  }

  private addNamespace(name: string): void {
    ip('netns', 'add', name);
    this.created.push(name);
    ip('-n', name, 'link', 'set', 'lo', 'up');
  }
}
