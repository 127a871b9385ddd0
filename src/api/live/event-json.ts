/**
 * Node events and lookup progress as the WebSocket API shows them
 * (docs/api.md, "WebSocket API"): binary fields as hex, items as their key
 * and name, never their values.
 */
import { toHex } from '../../crypto/bytes.js';
import type { NodeEvent } from '../../dht/events.js';
import type { Candidate, LookupEvent } from '../../dht/lookup.js';
import type { LivePeerJson, LookupProgressJson, NodeEventJson } from '../types.js';

export const nodeEventToJson = (event: NodeEvent): NodeEventJson => {
  switch (event.type) {
    case 'contact-added':
    case 'contact-moved':
      return { type: event.type, node_id: event.idHex, host: event.host, port: event.port };
    case 'contact-evicted':
      return { type: event.type, node_id: event.idHex };
    case 'blacklisted':
      return { type: event.type, node_id: event.idHex, reason: event.reason };
    case 'item-stored': {
      const { item } = event;
      return {
        type: event.type,
        key: toHex(item.key),
        name: item.name,
        public_key: toHex(item.publicKey),
        timestamp: item.timestamp,
        expires: item.expires,
        refreshed: event.refreshed,
      };
    }
    case 'item-refused':
      return { type: event.type, key: event.keyHex, code: event.code, reason: event.reason };
    case 'item-expired':
      return { type: event.type, key: event.keyHex };
    case 'item-dropped':
      return { type: event.type, key: event.keyHex, reason: event.reason };
    case 'message-dropped':
      return { type: event.type, reason: event.reason };
  }
};

const peerToJson = (peer: Candidate): LivePeerJson => ({ node_id: peer.idHex, host: peer.host, port: peer.port });

export const lookupEventToJson = (event: LookupEvent): LookupProgressJson => {
  const peer = peerToJson(event.peer);
  switch (event.type) {
    case 'asked':
      return { event: 'asked', peer };
    case 'answered':
      return { event: 'answered', peer, new_contacts: event.newContacts };
    case 'failed':
      return { event: 'failed', peer, reason: event.reason };
    case 'closer':
      return { event: 'closer', peer, distance_bits: event.distancePrefixBits };
    case 'value':
      return { event: 'value', peer };
    case 'bad-value':
      return { event: 'bad-value', peer, code: event.code, reason: event.reason };
  }
};
