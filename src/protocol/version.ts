/**
 * Versions: the wire protocol version every message carries, and the software
 * version recorded in an item's created_with.
 */
export const PROTOCOL_VERSION = 1;
export const SOFTWARE_VERSION = 'drogulus-ts/0.1.0';
