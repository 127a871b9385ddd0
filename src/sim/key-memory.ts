/**
 * Secret keys on the ordinary heap, for simulation processes only. libsodium's
 * sodium_malloc guards every allocation with pages of its own (one mmap, split
 * into three mappings); Identity makes two per node and one per session-key
 * agreement, so a process holding ~10,000 identities runs out of Linux's
 * 65,530 memory mappings and aborts. A simulated network lives in one
 * process, where guard pages protect nothing, so `drogulus sim` calls this
 * before it creates nodes. Real nodes never do.
 */
import sodium from 'sodium-native';

type Allocator = (size: number) => Buffer;
let guarded: Allocator | undefined;

/** From now on, in this process, sodium_malloc returns zeroed, unpooled heap Buffers. */
export const useHeapKeyMemory = (): void => {
  if (guarded) return;
  const library = sodium as unknown as { sodium_malloc: Allocator };
  guarded = library.sodium_malloc;
  library.sodium_malloc = (size) => Buffer.alloc(size);
};

/** Whether useHeapKeyMemory() is in force. */
export const isUsingHeapKeyMemory = (): boolean => guarded !== undefined;
