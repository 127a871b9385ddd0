/** The systems the benchmark knows, by name. */
import type { BenchSystem } from '../system.js';
import { bittorrentDht } from './bittorrent-dht.js';
import { drogulus } from './drogulus.js';
import { hyperdht } from './hyperdht.js';

export const SYSTEMS: Readonly<Record<string, BenchSystem>> = Object.freeze({
  drogulus,
  hyperdht,
  'bittorrent-dht': bittorrentDht,
});

export const SYSTEM_NAMES = Object.keys(SYSTEMS);
