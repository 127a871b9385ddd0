/**
 * The in-memory network in virtual time: latency, seeded loss, closed
 * endpoints, taps and spoofed injection, all driven by a ManualClock.
 */
import { describe, expect, it } from 'vitest';
import type { Address } from '../../src/routing/contact.js';
import { ManualClock } from '../../src/runtime/manual-clock.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { MemoryNetwork, type MemoryNetworkOptions, type Packet } from '../../src/transport/memory-network.js';

interface Received {
  readonly text: string;
  readonly from: Address;
  readonly atMs: number;
}

const setup = (options: Partial<MemoryNetworkOptions> = {}, seed = 1) => {
  const clock = new ManualClock(0);
  const network = new MemoryNetwork({ clock, random: new SeededRandom(seed), ...options });
  const a = network.createTransport();
  const b = network.createTransport();
  const received: Received[] = [];
  b.onReceive((bytes, from) => received.push({ text: Buffer.from(bytes).toString(), from, atMs: clock.now() }));
  return { clock, network, a, b, received };
};

const bytes = (text: string): Buffer => Buffer.from(text);

describe('MemoryNetwork', () => {
  it('gives each transport its own address and refuses an address already in use', () => {
    const { network, a, b } = setup();
    expect(a.localAddress).not.toEqual(b.localAddress);
    expect(network.isAttached(a.localAddress)).toBe(true);
    expect(() => network.createTransport(a.localAddress)).toThrow(/already in use/);
  });

  it('delivers a packet after its latency, and only when the clock is advanced that far', async () => {
    const { clock, a, b, received } = setup({ latencyMs: 10 });
    a.send(b.localAddress, bytes('hello'));
    expect(received).toEqual([]);
    await clock.advance(9);
    expect(received).toEqual([]);
    await clock.advance(1);
    expect(received).toEqual([{ text: 'hello', from: a.localAddress, atMs: 10 }]);
  });

  it('asks a latency function for the delay of each packet', async () => {
    const clock = new ManualClock(0);
    const network = new MemoryNetwork({ clock, random: new SeededRandom(1), latencyMs: (_from, to) => (to.host.endsWith('.1') ? 50 : 5) });
    const sender = network.createTransport();
    const near = network.createTransport({ host: '127.9.0.1', port: 1908 });
    const far = network.createTransport({ host: '127.9.0.2', port: 1908 });
    const arrivals: string[] = [];
    near.onReceive(() => arrivals.push(`slow at ${clock.now()}`));
    far.onReceive(() => arrivals.push(`fast at ${clock.now()}`));
    sender.send(near.localAddress, bytes('x'));
    sender.send(far.localAddress, bytes('y'));
    await clock.advance(100);
    expect(arrivals).toEqual(['fast at 5', 'slow at 50']);
  });

  it('delivers packets sent at the same time in the order they were sent', async () => {
    const { clock, a, b, received } = setup({ latencyMs: 3 });
    for (const text of ['one', 'two', 'three']) a.send(b.localAddress, bytes(text));
    await clock.advance(3);
    expect(received.map((r) => r.text)).toEqual(['one', 'two', 'three']);
  });

  it('loses about the configured fraction of packets, exactly as many again for the same seed', async () => {
    const lossCount = async (seed: number): Promise<{ lost: number; delivered: number }> => {
      const { clock, network, a, b, received } = setup({ lossRate: 0.25 }, seed);
      for (let i = 0; i < 2000; i++) a.send(b.localAddress, bytes(String(i)));
      await clock.advance(10);
      expect(network.counters.sent).toBe(2000);
      expect(network.counters.lost + network.counters.delivered).toBe(2000);
      expect(received.length).toBe(network.counters.delivered);
      return { lost: network.counters.lost, delivered: network.counters.delivered };
    };
    const first = await lossCount(7);
    expect(first.lost).toBeGreaterThan(2000 * 0.2);
    expect(first.lost).toBeLessThan(2000 * 0.3);
    expect(await lossCount(7)).toEqual(first);
  });

  it('loses nothing when the loss rate is zero', async () => {
    const { clock, network, a, b, received } = setup({ lossRate: 0 });
    for (let i = 0; i < 100; i++) a.send(b.localAddress, bytes(String(i)));
    await clock.advance(10);
    expect(network.counters.lost).toBe(0);
    expect(received).toHaveLength(100);
  });

  it('counts a packet to a closed transport as undeliverable and never hands it over', async () => {
    const { clock, network, a, b, received } = setup({ latencyMs: 5 });
    a.send(b.localAddress, bytes('in flight when b closes'));
    b.close();
    a.send(b.localAddress, bytes('after b closed'));
    await clock.advance(10);
    expect(received).toEqual([]);
    expect(network.isAttached(b.localAddress)).toBe(false);
    expect(network.counters.undeliverable).toBe(2);
    expect(network.counters.delivered).toBe(0);
  });

  it('sends nothing from a closed transport', async () => {
    const { clock, network, a, b, received } = setup();
    a.close();
    a.send(b.localAddress, bytes('never sent'));
    await clock.advance(10);
    expect(network.counters.sent).toBe(0);
    expect(received).toEqual([]);
  });

  it('counts a packet to an address nobody holds as undeliverable', async () => {
    const { clock, network, a } = setup();
    a.send({ host: '10.9.9.9', port: 1 }, bytes('nobody'));
    await clock.advance(10);
    expect(network.counters.undeliverable).toBe(1);
  });

  it('shows every packet to a tap, lost ones included, until the tap is removed', async () => {
    const { clock, network, a, b } = setup({ lossRate: 0.5 });
    const seen: Packet[] = [];
    const untap = network.tap((packet) => seen.push(packet));
    for (let i = 0; i < 20; i++) a.send(b.localAddress, bytes(String(i)));
    await clock.advance(10);
    expect(seen).toHaveLength(20);
    expect(network.counters.lost).toBeGreaterThan(0);
    expect(seen[3]).toEqual({ from: a.localAddress, to: b.localAddress, bytes: bytes('3') });
    untap();
    a.send(b.localAddress, bytes('unseen'));
    expect(seen).toHaveLength(20);
  });

  it('injects bytes that arrive as if the spoofed address had sent them', async () => {
    const { clock, network, b, received } = setup({ latencyMs: 2 });
    const spoofed = { host: '127.200.0.1', port: 4242 };
    network.inject(spoofed, b.localAddress, bytes('forged'));
    await clock.advance(2);
    expect(received).toEqual([{ text: 'forged', from: spoofed, atMs: 2 }]);
  });
});
