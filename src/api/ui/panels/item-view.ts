/// <reference lib="dom" />
/**
 * An item with its provenance, checked in this browser (verify.ts): who
 * published it, under which name, and whether the signature and key hold.
 * The value is shown as text, never interpreted as markup.
 */
import type { ItemJson } from '../../types.js';
import { definitions, el } from '../dom.js';
import { formatExpiry, isoTime, shortHex } from '../format.js';
import type { Provenance } from '../verify.js';

const valueText = (item: ItemJson): { text: string; note: string } => {
  if (item.value_type === 'json') {
    try {
      return { text: JSON.stringify(item.json !== undefined ? item.json : JSON.parse(item.value), null, 2), note: 'JSON' };
    } catch {
      return { text: item.value, note: 'JSON text' };
    }
  }
  if (item.text !== undefined) return { text: item.text, note: 'text (UTF-8 bytes)' };
  return { text: item.value, note: 'binary, shown as base64' };
};

const provenanceBadge = (p: Provenance): HTMLElement => {
  if (p.verified) {
    return el(
      'p',
      { class: 'provenance ok', attrs: { 'data-verified': 'true' } },
      el('strong', { text: '✓ Verified in this browser. ' }),
      'The Ed25519 signature checks out with the publisher’s public key, and the key is the one that public key and name make.',
    );
  }
  if (p.keyMatches && p.signature === 'unsupported') {
    return el(
      'p',
      { class: 'provenance warn', attrs: { 'data-verified': 'node' } },
      el('strong', { text: 'Checked by the node only. ' }),
      'The key matches the publisher and name, but this browser cannot check Ed25519 signatures; the node verified it before serving it.',
    );
  }
  const problems = [!p.keyMatches && 'the key does not belong to this public key and name', p.signature === 'invalid' && 'the signature does not verify'].filter(Boolean).join('; ');
  return el('p', { class: 'provenance bad', attrs: { 'data-verified': 'false', role: 'alert' } }, el('strong', { text: '✗ Not verified: ' }), `${problems}. Do not trust this value.`);
};

export const itemView = (item: ItemJson, provenance: Provenance, source: string, nowMs: number): HTMLElement => {
  const value = valueText(item);
  const meta = Object.entries(item.meta);
  return el(
    'article',
    { class: 'item', attrs: { 'aria-label': `Item ${item.name || '(empty name)'}` } },
    provenanceBadge(provenance),
    el('h3', {}, 'Value ', el('span', { class: 'muted', text: `(${value.note})` })),
    el('pre', { class: 'value', text: value.text, attrs: { tabindex: 0, 'aria-label': 'The value' } }),
    definitions([
      ['Name', item.name === '' ? el('span', { class: 'muted', text: '(empty name)' }) : item.name],
      ['Publisher', el('code', { class: 'hex', text: item.public_key })],
      ['Key', el('code', { class: 'hex', text: item.key })],
      ['Published', isoTime(item.timestamp)],
      ['Expires', item.expires === 0 ? 'never' : `${isoTime(item.expires)} (${formatExpiry(item.expires, nowMs)})`],
      ['Created with', item.created_with],
      ['Meta', meta.length === 0 ? el('span', { class: 'muted', text: 'none' }) : definitions(meta, 'facts nested')],
      ['Signature', el('code', { class: 'hex', text: shortHex(item.signature, 32), attrs: { title: item.signature } })],
      ['Came from', source === 'local' ? 'this node’s own copy' : source === 'network' ? 'the network (a lookup)' : source],
    ]),
  );
};
