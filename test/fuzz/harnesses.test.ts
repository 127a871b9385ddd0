/**
 * The fuzz harnesses themselves: their seed corpora are valid, they pass on
 * them, and their oracles catch the bugs they are there to catch (a node made
 * wrong on purpose fails them). Also the data provider and coverage feedback.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { handlersHarness } from '../../fuzz/harnesses/handlers.js';
import { codecHarness } from '../../fuzz/harnesses/codec.js';
import { sealHarness } from '../../fuzz/harnesses/seal.js';
import { CoverageTracker } from '../../fuzz/lib/coverage.js';
import { DataProvider } from '../../fuzz/lib/data-provider.js';
import type { Harness } from '../../fuzz/lib/harness.js';
import { RECEIVER, sessionKeyBetween } from '../../fuzz/lib/identities.js';
import { DrogulusNode } from '../../src/dht/node.js';
import { DEFAULT_CODEC_OPTIONS, decodeMessage } from '../../src/protocol/codec.js';
import { RoutingTable } from '../../src/routing/routing-table.js';

const CORPUS = resolve(import.meta.dirname, '../../fuzz/corpus');
const corpus = (name: string): Array<[string, Buffer]> => readdirSync(join(CORPUS, name)).sort().map((f) => [f, readFileSync(join(CORPUS, name, f))]);

const runAll = async (harness: Harness, inputs: Array<[string, Buffer]>): Promise<void> => {
  for (const [name, data] of inputs) {
    try {
      await harness.run(data);
    } catch (error) {
      throw new Error(`${harness.name} fails on ${name}: ${(error as Error).message}`);
    }
  }
};

describe('the seed corpora', () => {
  it('hold a valid encoding of every message type, signed and MAC-sealed, for the codec harness', () => {
    const files = corpus('codec');
    const types = new Set<string>();
    for (const [name, data] of files) {
      const result = decodeMessage(data, { ...DEFAULT_CODEC_OPTIONS, sessionKeyFor: (pk) => sessionKeyBetween(RECEIVER, pk) });
      expect(result.ok, name).toBe(true);
      if (result.ok) types.add(`${result.value.message.type}/${result.value.sealKind}`);
    }
    const expected = ['ping', 'pong', 'store', 'find-node', 'nodes', 'find-value', 'value', 'error'].flatMap((t) => [`${t}/signature`, `${t}/mac`]);
    expect([...types].sort()).toEqual(expected.sort());
  });

  it('are what fuzz/make-corpus.ts writes, so they follow the codec', () => {
    for (const harness of [codecHarness, sealHarness, handlersHarness]) {
      const onDisk = corpus(harness.name).map(([name, data]) => [name, data.toString('hex')]);
      const generated = harness.seeds().map((s) => [s.name, s.data.toString('hex')]).sort((a, b) => a[0].localeCompare(b[0]));
      expect(onDisk, `fuzz/corpus/${harness.name} is stale: run npx tsx fuzz/make-corpus.ts`).toEqual(generated);
    }
  });

  it('pass the handlers harness', async () => {
    await runAll(handlersHarness, corpus('handlers'));
  });
});

describe('the handlers harness catches a node that', () => {
  afterEach(() => vi.restoreAllMocks());
  const expectCaught = async (pattern: RegExp): Promise<void> => {
    await expect(runAll(handlersHarness, corpus('handlers'))).rejects.toThrow(pattern);
  };

  it('adds a sender to its table on receipt, without a round trip', async () => {
    const original = DrogulusNode.prototype.receive;
    vi.spyOn(DrogulusNode.prototype, 'receive').mockImplementation(function (this: DrogulusNode, bytes, from) {
      original.call(this, bytes, from);
      const decoded = decodeMessage(bytes, { ...DEFAULT_CODEC_OPTIONS, sessionKeyFor: (pk) => this.sessionKeys?.keyFor(pk) });
      if (decoded.ok && decoded.value.message.type === 'ping') this.table.add({ publicKey: decoded.value.message.senderPublicKey, ...from }, 0);
    });
    await expectCaught(/entered the table without a round trip/);
  });

  it('stores an item without checking its signature', async () => {
    const original = DrogulusNode.prototype.receive;
    vi.spyOn(DrogulusNode.prototype, 'receive').mockImplementation(function (this: DrogulusNode, bytes, from) {
      original.call(this, bytes, from);
      const decoded = decodeMessage(bytes, { ...DEFAULT_CODEC_OPTIONS, sessionKeyFor: (pk) => this.sessionKeys?.keyFor(pk) });
      if (decoded.ok && decoded.value.message.type === 'store') {
        const item = decoded.value.message.item;
        this.store.put({ ...item, signature: Buffer.alloc(64, 1) }, 0);
      }
    });
    await expectCaught(/item whose signature is not genuine/);
  });

  it('swallows an internal error', async () => {
    vi.spyOn(RoutingTable.prototype, 'closest').mockImplementation(() => {
      throw new Error('a handler bug');
    });
    await expectCaught(/internal error/);
  });

  it('stops answering pings', async () => {
    vi.spyOn(DrogulusNode.prototype, 'receive').mockImplementation(() => undefined);
    await expectCaught(/did not answer a valid Ping/);
  });
});

describe('the fuzzed data provider', () => {
  it('reads integers big-endian from as few bytes as the range needs, and zeros once exhausted', () => {
    const p = new DataProvider(Buffer.from([0x01, 0x02, 0x03, 0xff]));
    expect(p.int(0xffff)).toBe(0x0102);
    expect(p.int(9)).toBe(3);
    expect(p.byte()).toBe(0xff);
    expect(p.remaining).toBe(0);
    expect(p.int(1000)).toBe(0);
    expect(p.bytes(3)).toEqual(Buffer.alloc(3));
    expect(p.oneIn(4)).toBe(false);
  });

  it('gives the same values for the same bytes', () => {
    const data = Buffer.from('the same input twice');
    const read = (p: DataProvider) => [p.text(5), p.time(1000), p.number(), p.pick(['a', 'b', 'c']), p.bytesUpTo(4).toString('hex')];
    expect(read(new DataProvider(data))).toEqual(read(new DataProvider(data)));
  });
});

describe('coverage feedback', () => {
  it('sees a block run for the first time even when V8 merges it into its parent', async () => {
    const tracker = new CoverageTracker((url) => url.includes('fixtures/branches'));
    tracker.start();
    try {
      const { classify } = await import('./fixtures/branches.js');
      tracker.collect();
      classify(1);
      expect(tracker.collect()).toBeGreaterThan(0);
      classify(2);
      expect(tracker.collect()).toBe(0);
      // The negative branch: V8 reports the function and the branch with the same count, as one range.
      classify(-1);
      expect(tracker.collect()).toBeGreaterThan(0);
      classify(-2);
      expect(tracker.collect()).toBe(0);
    } finally {
      tracker.stop();
    }
  });
});
