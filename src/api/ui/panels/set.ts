/// <reference lib="dom" />
/**
 * Set: sign a value (text or JSON) under a name with this node's key and
 * store it on `duplicate` nodes, with each replica's answer shown as it comes.
 * Needs the token, asked once per session. Uses the live connection, or the
 * HTTP progress stream (application/x-ndjson) when that is down.
 */
import { ApiError } from '../../client.js';
import type { PutItemBody, ReplicaJson, ReplicationJson } from '../../types.js';
import type { UiContext } from '../context.js';
import { byId, el, render } from '../dom.js';
import { plural, shortHex } from '../format.js';
import { LiveError } from '../live.js';

class ReplicaProgress {
  private expected = 0;
  private readonly outcomes: ReplicaJson[] = [];

  constructor(
    private readonly summary: HTMLElement,
    private readonly bar: HTMLProgressElement,
    private readonly list: HTMLOListElement,
  ) {
    render(this.list);
    this.bar.max = 1;
    this.bar.value = 0;
    this.bar.removeAttribute('data-done');
    render(this.summary, 'Looking up the closest nodes…');
  }

  /** A lookup step: the closest nodes are still being found. */
  lookupStep(asked: number): void {
    if (this.expected === 0) render(this.summary, `Looking up the closest nodes: asked ${plural(asked, 'peer')}…`);
  }

  lookupDone(replicas: number): void {
    this.expected = replicas;
    this.bar.max = Math.max(replicas, 1);
    render(this.summary, `Storing on ${plural(replicas, 'node')}…`);
  }

  replica(outcome: ReplicaJson): void {
    this.outcomes.push(outcome);
    this.bar.value = this.outcomes.length;
    const who = outcome.peer === 'self' ? 'this node' : shortHex(outcome.peer, 16);
    const why = outcome.message ? `: ${outcome.message}` : '';
    this.list.append(
      el('li', { class: `replica ${outcome.status}`, attrs: { 'data-status': outcome.status } }, el('span', { class: 'kind', text: outcome.status }), el('span', { text: `${who}${why}` })),
    );
    const stored = this.outcomes.filter((o) => o.status === 'stored').length;
    render(this.summary, `${this.outcomes.length} of ${this.expected} replicas answered: ${stored} stored.`);
  }

  done(result: ReplicationJson): void {
    this.bar.max = Math.max(result.attempted, 1);
    this.bar.value = result.attempted;
    this.bar.setAttribute('data-done', 'true');
    const failed = result.replicas.filter((r) => r.status === 'failed').length;
    const refused = result.replicas.filter((r) => r.status === 'refused').length;
    render(
      this.summary,
      el('strong', { text: `Stored on ${result.stored} of ${plural(result.attempted, 'node')}` }),
      `${refused ? `, ${refused} refused` : ''}${failed ? `, ${failed} failed` : ''}. Key `,
      el('code', { class: 'hex', text: result.key }),
    );
  }

  failed(message: string): void {
    this.bar.setAttribute('data-done', 'false');
    render(this.summary, el('strong', { text: 'The write failed: ' }), message);
  }
}

export class SetPanel {
  private readonly form = byId('set-form', HTMLFormElement);
  private readonly name = byId('set-name', HTMLInputElement);
  private readonly value = byId('set-value', HTMLTextAreaElement);
  private readonly asJson = byId('set-type-json', HTMLInputElement);
  private readonly expires = byId('set-expires', HTMLInputElement);
  private readonly duplicate = byId('set-duplicate', HTMLInputElement);
  private readonly submit = byId('set-submit', HTMLButtonElement);
  private readonly error = byId('set-error', HTMLParagraphElement);
  private readonly summary = byId('set-summary', HTMLParagraphElement);
  private readonly bar = byId('set-progress-bar', HTMLProgressElement);
  private readonly replicas = byId('set-replicas', HTMLOListElement);
  private running = false;

  constructor(private readonly ui: UiContext) {
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.run();
    });
  }

  /** The most replicas a write may ask for: the node's K. */
  setMaxDuplicate(k: number): void {
    this.duplicate.max = String(k);
    if (Number(this.duplicate.value) > k) this.duplicate.value = String(k);
    render(byId('set-duplicate-hint', HTMLSpanElement), `1 to ${k}; the node’s default is ${k}.`);
  }

  private invalid(input: HTMLInputElement | HTMLTextAreaElement, message: string): void {
    input.setAttribute('aria-invalid', 'true');
    render(this.error, message);
    input.focus();
  }

  private body(): PutItemBody | undefined {
    for (const input of [this.value, this.expires, this.duplicate]) input.removeAttribute('aria-invalid');
    render(this.error);
    let value: unknown = this.value.value;
    if (this.asJson.checked) {
      try {
        value = JSON.parse(this.value.value) as unknown;
      } catch (error) {
        this.invalid(this.value, `The value is not JSON: ${(error as Error).message}`);
        return undefined;
      }
    }
    const expires = Number(this.expires.value || '0');
    if (!Number.isFinite(expires) || expires < 0) {
      this.invalid(this.expires, 'Expiry is a number of seconds, 0 or more (0 = never).');
      return undefined;
    }
    const duplicate = Number(this.duplicate.value);
    if (!Number.isInteger(duplicate) || duplicate < 1 || duplicate > Number(this.duplicate.max || 20)) {
      this.invalid(this.duplicate, `Replicas is a whole number from 1 to ${this.duplicate.max || 20}.`);
      return undefined;
    }
    return { value, value_type: this.asJson.checked ? 'json' : 'text', expires, duplicate };
  }

  private async run(): Promise<void> {
    if (this.running) return;
    const body = this.body();
    if (!body) return;
    const name = this.name.value;
    this.running = true;
    this.submit.disabled = true;
    const progress = new ReplicaProgress(this.summary, this.bar, this.replicas);
    try {
      let result = await this.write(name, body, progress, await this.ui.token());
      if (result === 'unauthorized') {
        this.ui.forgetToken();
        result = await this.write(name, body, progress, await this.ui.token('The node refused the token it had: enter it again.'));
      }
      if (result === 'unauthorized') progress.failed('The node refused the token.');
      else if (result === undefined) progress.failed('A write needs the node’s API token.');
      else {
        progress.done(result);
        this.ui.announce(`Stored on ${result.stored} of ${result.attempted} nodes.`);
        this.ui.changed();
      }
    } catch (error) {
      progress.failed((error as Error).message);
      this.ui.announce('The write failed.');
    } finally {
      this.running = false;
      this.submit.disabled = false;
    }
  }

  /** The replication report; 'unauthorized' when the node refused the token; undefined when there is none. */
  private async write(name: string, body: PutItemBody, progress: ReplicaProgress, token: string | undefined): Promise<ReplicationJson | 'unauthorized' | undefined> {
    if (token === undefined) return undefined;
    try {
      if (this.ui.live.state === 'open') {
        await this.ui.live.authenticate(token);
        let asked = 0;
        const final = await this.ui.live.request({ type: 'set', name, ...body }, (message) => {
          if (message.type === 'lookup' && message.event === 'asked') progress.lookupStep(++asked);
          else if (message.type === 'lookup-done' && typeof message.replicas === 'number') progress.lookupDone(message.replicas);
          else if (message.type === 'replica') progress.replica(message as unknown as ReplicaJson);
        });
        return final.result as ReplicationJson;
      }
      return await this.ui.client.withToken(token).putItem(name, body, {
        onProgress: (event) => {
          if (event.type === 'lookup-done') progress.lookupDone(event.replicas);
          else progress.replica(event);
        },
      });
    } catch (error) {
      const code = error instanceof ApiError || error instanceof LiveError ? error.code : undefined;
      if (code === 'unauthorized') return 'unauthorized';
      throw error;
    }
  }
}
