/**
 * Byte helpers shared by every layer: hex conversion and comparison.
 */
/** A Buffer view of the same memory, for APIs typed on Buffer; no copy. */
export const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);

export const toHex = (bytes: Uint8Array): string => asBuffer(bytes).toString('hex');

const HEX = /^(?:[0-9a-f]{2})*$/i;

/** Parses hex; returns undefined for anything that is not whole bytes of hex. */
export const fromHex = (text: string, expectedBytes?: number): Buffer | undefined => {
  if (!HEX.test(text)) return undefined;
  if (expectedBytes !== undefined && text.length !== expectedBytes * 2) return undefined;
  return Buffer.from(text, 'hex');
};

export const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && Buffer.compare(a, b) === 0;

export const compareBytes = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b);
