/**
 * The transport contract for the in-memory network, in virtual time: the
 * simulator and the node tests rely on it behaving as the sockets do.
 */
import { ManualClock } from '../../src/runtime/manual-clock.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { MemoryNetwork } from '../../src/transport/memory-network.js';
import { runTransportContract } from './transport-contract.js';

runTransportContract(
  'MemoryTransport',
  async () => {
    const clock = new ManualClock(0);
    const network = new MemoryNetwork({ clock, random: new SeededRandom(1), latencyMs: 2 });
    const a = network.createTransport();
    const b = network.createTransport();
    return {
      a,
      b,
      advance: (ms) => clock.advance(ms),
      cleanup: async () => {
        a.close();
        b.close();
      },
    };
  },
  { largeMessages: true },
);
