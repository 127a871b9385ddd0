/**
 * The suite every Transport must pass (the in-memory network, UDP/TCP): bytes
 * arrive intact, from the sender's address, replies to `from` come back, and
 * a closed transport is silent. Time passes only through the factory's
 * `advance`: virtual for the memory network, real (bounded) for sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Transport } from '../../src/dht/transport.js';
import type { Address } from '../../src/routing/contact.js';
import { SeededRandom } from '../../src/runtime/random.js';

export interface TransportPair {
  readonly a: Transport;
  readonly b: Transport;
  /** Lets `ms` of time pass: a manual clock's advance, or a real wait. */
  readonly advance: (ms: number) => Promise<void>;
  readonly cleanup: () => Promise<void>;
}

export interface TransportContractOptions {
  /** Whether the transport carries messages far larger than a datagram (60 KB here). */
  readonly largeMessages: boolean;
}

interface Received {
  readonly bytes: Buffer;
  readonly from: Address;
}

const STEP_MS = 5;
/** Generous for loopback; a transport that needs longer has a bug, and the test fails instead of hanging. */
const DEADLINE_MS = 5_000;
const LARGE_BYTES = 60 * 1024;

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

export function runTransportContract(name: string, factory: () => Promise<TransportPair>, options: TransportContractOptions): void {
  describe(`${name} (transport contract)`, () => {
    let pair: TransportPair | undefined;
    afterEach(async () => {
      await pair?.cleanup();
      pair = undefined;
    });

    const setup = async () => {
      pair = await factory();
      const { a, b, advance } = pair;
      const atA: Received[] = [];
      const atB: Received[] = [];
      a.onReceive((bytes, from) => atA.push({ bytes: Buffer.from(bytes), from }));
      b.onReceive((bytes, from) => atB.push({ bytes: Buffer.from(bytes), from }));
      /** Advances time in small steps until `done()`, failing after DEADLINE_MS. */
      const eventually = async (done: () => boolean, what: string): Promise<void> => {
        for (let waited = 0; !done(); waited += STEP_MS) {
          if (waited >= DEADLINE_MS) throw new Error(`${what}: not after ${DEADLINE_MS} ms`);
          await advance(STEP_MS);
        }
      };
      return { a, b, advance, atA, atB, eventually };
    };

    it('delivers exactly the bytes sent, from the address the sender listens at', async () => {
      const { a, b, atB, eventually } = await setup();
      const message = new SeededRandom(1).bytes(200);
      a.send(b.localAddress, message);
      await eventually(() => atB.length === 1, 'the message reaching b');
      expect(atB[0].bytes.equals(message)).toBe(true);
      expect(atB[0].from).toEqual(a.localAddress);
    });

    it('delivers a reply sent to `from` back to the sender', async () => {
      const { a, b, atA, atB, eventually } = await setup();
      b.onReceive((bytes, from) => {
        atB.push({ bytes: Buffer.from(bytes), from });
        b.send(from, text(`re: ${Buffer.from(bytes).toString()}`));
      });
      a.send(b.localAddress, text('ping'));
      await eventually(() => atA.length === 1, 'the reply reaching a');
      expect(atA[0].bytes.toString()).toBe('re: ping');
      expect(atA[0].from).toEqual(b.localAddress);
    });

    it('delivers every one of many messages in both directions', async () => {
      const { a, b, atA, atB, eventually } = await setup();
      const count = 200;
      const batch = 20;
      // In batches, as a node's requests go: a kernel socket buffer holds a burst of a few hundred small datagrams at most.
      for (let i = 0; i < count; i += batch) {
        for (let j = i; j < i + batch; j++) {
          a.send(b.localAddress, text(`a→b ${j}`));
          b.send(a.localAddress, text(`b→a ${j}`));
        }
        await eventually(() => atA.length === i + batch && atB.length === i + batch, `batch ${i / batch + 1}`);
      }
      const expected = (prefix: string) => Array.from({ length: count }, (_, j) => `${prefix} ${j}`).sort();
      expect(atB.map((r) => r.bytes.toString()).sort()).toEqual(expected('a→b'));
      expect(atA.map((r) => r.bytes.toString()).sort()).toEqual(expected('b→a'));
      expect(atB.every((r) => r.from.host === a.localAddress.host && r.from.port === a.localAddress.port)).toBe(true);
    });

    it('sends nothing from a closed transport and never throws, and delivers nothing to one', async () => {
      const { a, b, advance, atA, atB } = await setup();
      a.close();
      a.close();
      expect(() => a.send(b.localAddress, text('from a closed transport'))).not.toThrow();
      expect(() => b.send(a.localAddress, text('to a closed transport'))).not.toThrow();
      if (options.largeMessages) {
        expect(() => a.send(b.localAddress, Buffer.alloc(LARGE_BYTES, 1))).not.toThrow();
        expect(() => b.send(a.localAddress, Buffer.alloc(LARGE_BYTES, 2))).not.toThrow();
      }
      await advance(100);
      expect(atA).toEqual([]);
      expect(atB).toEqual([]);
    });

    describe.runIf(options.largeMessages)('large messages', () => {
      it('delivers a 60 KB message intact in each direction, from the sender’s host', async () => {
        const { a, b, atA, atB, eventually } = await setup();
        const random = new SeededRandom(2);
        const toB = random.bytes(LARGE_BYTES);
        const toA = random.bytes(LARGE_BYTES);
        a.send(b.localAddress, toB);
        b.send(a.localAddress, toA);
        await eventually(() => atA.length === 1 && atB.length === 1, 'both large messages arriving');
        expect(atB[0].bytes.equals(toB)).toBe(true);
        expect(atA[0].bytes.equals(toA)).toBe(true);
        expect(atB[0].from.host).toBe(a.localAddress.host);
        expect(atA[0].from.host).toBe(b.localAddress.host);
      });

      it('delivers small and large replies to `from` of a large message back to its sender', async () => {
        const { a, b, atA, eventually } = await setup();
        const largeReply = new SeededRandom(3).bytes(LARGE_BYTES);
        b.onReceive((_bytes, from) => {
          b.send(from, text('small reply'));
          b.send(from, largeReply);
        });
        a.send(b.localAddress, new SeededRandom(4).bytes(LARGE_BYTES));
        await eventually(() => atA.length === 2, 'both replies reaching a');
        const [small, large] = [...atA].sort((x, y) => x.bytes.length - y.bytes.length);
        expect(small.bytes.toString()).toBe('small reply');
        expect(large.bytes.equals(largeReply)).toBe(true);
        expect(atA.every((r) => r.from.host === b.localAddress.host)).toBe(true);
      });

      it('delivers a large reply to `from` of a small message back to its sender', async () => {
        const { a, b, atA, eventually } = await setup();
        const largeReply = new SeededRandom(5).bytes(LARGE_BYTES);
        b.onReceive((_bytes, from) => b.send(from, largeReply));
        a.send(b.localAddress, text('find-value'));
        await eventually(() => atA.length === 1, 'the large reply reaching a');
        expect(atA[0].bytes.equals(largeReply)).toBe(true);
        expect(atA[0].from.host).toBe(b.localAddress.host);
      });
    });
  });
}
