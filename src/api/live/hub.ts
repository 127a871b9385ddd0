/**
 * The open WebSocket sessions of one API server: it bounds their number and
 * fans the node's events out to the subscribers, turning each event into
 * JSON once however many are listening.
 */
import type { DrogulusNode } from '../../dht/node.js';
import { nodeEventToJson } from './event-json.js';
import type { LiveSession, LiveSessionInfo, LiveSettings } from './session.js';

export class LiveHub {
  private readonly sessions = new Set<LiveSession>();
  private readonly unsubscribe: () => void;

  constructor(
    node: DrogulusNode,
    readonly settings: LiveSettings,
  ) {
    this.unsubscribe = node.onEvent((event) => {
      let json: string | undefined;
      for (const session of this.sessions) {
        if (!session.isSubscribed) continue;
        json ??= JSON.stringify(nodeEventToJson(event));
        session.deliverEvent(json);
      }
    });
  }

  get size(): number {
    return this.sessions.size;
  }

  get isFull(): boolean {
    return this.sessions.size >= this.settings.maxConnections;
  }

  add(session: LiveSession): void {
    this.sessions.add(session);
  }

  remove(session: LiveSession): void {
    this.sessions.delete(session);
  }

  /** What each open session holds: for tests and diagnostics. */
  connections(): LiveSessionInfo[] {
    return [...this.sessions].map((session) => session.info);
  }

  close(): void {
    this.unsubscribe();
    for (const session of this.sessions) session.close();
    this.sessions.clear();
  }
}
