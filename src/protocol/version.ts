/**
 * Versions: the wire protocol version every message carries, and the software
 * version recorded in an item's created_with.
 */
export const PROTOCOL_VERSION = 1;
/** Kept equal to package.json's version (a test checks). */
export const PACKAGE_VERSION = '0.1.0';
export const SOFTWARE_VERSION = `drogulus-ts/${PACKAGE_VERSION}`;
