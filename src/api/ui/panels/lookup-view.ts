/// <reference lib="dom" />
/**
 * A lookup as it happens: each peer asked, its answer, and how close the
 * closest peer so far is to the target. Closeness is computed here from the
 * peer's id and the target (bits shared, Kademlia's XOR metric), so it does not
 * depend on what the server adds to its events.
 */
import { el, render } from '../dom.js';
import { plural, shortHex } from '../format.js';
import type { LiveMessage } from '../live.js';
import { sharedPrefixBits } from '../verify.js';

const SVG = 'http://www.w3.org/2000/svg';
const ID_BITS = 512;
const MAX_ROWS = 200;

interface LookupPeer {
  readonly node_id?: string;
  readonly host?: string;
  readonly port?: number;
}

const svg = <K extends keyof SVGElementTagNameMap>(tag: K, attrs: Readonly<Record<string, string | number>>, text?: string): SVGElementTagNameMap[K] => {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
};

export class LookupView {
  private readonly asked = new Set<string>();
  private answered = 0;
  private failed = 0;
  private best = -1;
  /** The closest peer's shared bits after each event: the chart's line. */
  private readonly trace: number[] = [];
  private rows = 0;
  private why: string | undefined;

  constructor(
    private readonly summary: HTMLElement,
    private readonly chart: HTMLElement,
    private readonly list: HTMLOListElement,
    private readonly targetHex: string,
  ) {
    render(this.summary, 'Looking up…');
    render(this.chart);
    render(this.list);
  }

  get peersAsked(): number {
    return this.asked.size;
  }

  add(message: LiveMessage): void {
    const peer = (message.peer ?? {}) as LookupPeer;
    const id = typeof peer.node_id === 'string' && /^[0-9a-f]+$/i.test(peer.node_id) ? peer.node_id.toLowerCase() : undefined;
    const bits = id ? sharedPrefixBits(id, this.targetHex) : undefined;
    const who = `${id ? shortHex(id) : 'a peer'}${peer.host ? ` at ${peer.host}:${peer.port ?? '?'}` : ''}`;
    const closeness = bits === undefined ? '' : ` (shares ${plural(bits, 'bit')} with the target)`;
    let text: string;
    switch (message.event) {
      case 'asked':
        if (id) this.asked.add(id);
        if (bits !== undefined && bits > this.best) this.best = bits;
        text = `Asked ${who}${closeness}`;
        break;
      case 'answered': {
        this.answered++;
        const fresh = typeof message.new_contacts === 'number' ? `, ${plural(message.new_contacts, 'new contact')}` : '';
        text = `${who} answered${fresh}`;
        break;
      }
      case 'failed':
        this.failed++;
        text = `${who} failed${typeof message.reason === 'string' ? `: ${message.reason}` : ''}`;
        break;
      case 'closer':
        if (bits !== undefined && bits > this.best) this.best = bits;
        text = `Closer: ${who}${closeness}`;
        break;
      case 'value':
        this.answered++;
        text = `${who} answered with the item`;
        break;
      case 'bad-value':
        text = `${who} sent a value that failed verification${typeof message.reason === 'string' ? `: ${message.reason}` : ''}; it was ignored`;
        break;
      default:
        text = `${String(message.event ?? 'event')}: ${who}`;
    }
    this.trace.push(Math.max(this.best, 0));
    this.addRow(String(message.event ?? 'event'), text, bits);
    this.showSummary();
    this.drawChart();
  }

  /** The end of the lookup, in words. */
  finish(outcome: string): void {
    this.showSummary(outcome);
  }

  /** There is no lookup to show: the summary says why instead of counting. */
  unavailable(why: string): void {
    this.why = why;
    this.showSummary();
  }

  private addRow(kind: string, text: string, bits: number | undefined): void {
    if (this.rows >= MAX_ROWS) return;
    this.rows++;
    const bar = el('span', { class: 'bar', attrs: { 'aria-hidden': 'true' } });
    // CSSOM writes are allowed under style-src 'self'; no style attribute is ever written as text.
    if (bits !== undefined) bar.style.inlineSize = `${Math.min(100, ((bits + 1) / (Math.max(this.best, 7) + 1)) * 100)}%`;
    this.list.append(el('li', { class: `lookup-event ${kind}`, attrs: { 'data-event': kind } }, el('span', { class: 'kind', text: kind }), el('span', { class: 'what', text }), el('span', { class: 'track' }, bar)));
  }

  private showSummary(outcome?: string): void {
    if (this.why !== undefined) {
      render(this.summary, `${outcome ? `${outcome} ` : ''}${this.why}`);
      return;
    }
    const closest = this.best < 0 ? '' : `; the closest peer so far shares ${plural(this.best, 'bit')} with the target (distance below 2^${ID_BITS - this.best})`;
    render(this.summary, `${outcome ? `${outcome} ` : ''}Asked ${plural(this.asked.size, 'peer')}, ${this.answered} answered, ${this.failed} failed${closest}.`);
  }

  private drawChart(): void {
    const width = 320;
    const height = 90;
    const pad = 22;
    const top = Math.max(this.best, 7) + 1;
    const n = this.trace.length;
    const x = (i: number): number => pad + (n <= 1 ? 0 : (i / (n - 1)) * (width - pad - 6));
    const y = (bits: number): number => height - pad - (bits / top) * (height - pad - 8);
    const points = this.trace.map((bits, i) => `${x(i).toFixed(1)},${y(bits).toFixed(1)}`).join(' ');
    const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'lookup-chart', role: 'img', 'aria-labelledby': 'lookup-chart-title' });
    chart.append(
      svg('title', { id: 'lookup-chart-title' }, `Closest peer so far: shares ${Math.max(this.best, 0)} bits with the target after ${plural(n, 'event')}`),
      svg('line', { x1: pad, y1: height - pad, x2: width - 4, y2: height - pad, class: 'axis' }),
      svg('line', { x1: pad, y1: 6, x2: pad, y2: height - pad, class: 'axis' }),
      svg('text', { x: 2, y: 14, class: 'tick' }, String(top)),
      svg('text', { x: 2, y: height - pad, class: 'tick' }, '0'),
      svg('text', { x: pad + 4, y: height - 6, class: 'tick' }, 'events →   bits shared with the target ↑ (distance shrinks)'),
      svg('polyline', { points, class: 'trace' }),
    );
    render(this.chart, chart);
  }
}
