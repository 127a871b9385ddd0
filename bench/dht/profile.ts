/**
 * CPU profiles of single phases with the V8 sampling profiler (node:inspector),
 * and a summary of where the time went, per operation: self time by category
 * (Ed25519 sign, verify, msgpack, sockets, GC, each drogulus layer …) and by
 * function. Positions are mapped back to the TypeScript sources through the
 * source maps tsx registers; native frames (libsodium, socket syscalls) are
 * named after the JavaScript function that called them, because V8 cannot
 * name code inside an addon. The raw profiles open in Chrome DevTools.
 */
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  readonly msPerOp: number;
  readonly percent: number;
}

export interface ProfileSummary {
  readonly phase: string;
  readonly ops: number;
  /** CPU samples (idle excluded) per operation, in ms. */
  readonly sampledMsPerOp: number;
  readonly byCategory: readonly SelfTime[];
  readonly topFunctions: readonly SelfTime[];
}

const SAMPLING_INTERVAL_US = 200;
const V8_PSEUDO_FRAMES = new Set(['(program)', '(garbage collector)', '(root)', '(idle)']);

/** Starts the profiler; the returned function stops it and returns the profile. */
export const startProfile = async (): Promise<() => Promise<CpuProfile>> => {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
    await session.post('Profiler.disable');
    session.disconnect();
    return profile;
  };
};

/** The path from src/, bench/ or node_modules/ on, or node's own module name. */
const shortFile = (url: string): string => {
  for (const marker of ['/node_modules/', '/src/', '/bench/']) {
    const at = url.lastIndexOf(marker);
    if (at >= 0) return url.slice(at + 1);
  }
  return url.replace(/^file:\/\//, '');
};

const sourceLines = new Map<string, string[]>();

/** A name for an anonymous function, read from its source line: `const NAME =`, `NAME(`, `function NAME`. */
const nameFromSource = (url: string, line: number): string | undefined => {
  if (!url.startsWith('file:')) return undefined;
  let lines = sourceLines.get(url);
  if (!lines) {
    try {
      lines = readFileSync(fileURLToPath(url), 'utf8').split('\n');
    } catch {
      lines = [];
    }
    sourceLines.set(url, lines);
  }
  const text = lines[line] ?? '';
  const match = /(?:const|let|function)\s+([\w$]+)/.exec(text) ?? /^\s*(?:(?:private|public|static|async|get|readonly)\s+)*([\w$]+)\s*[(<]/.exec(text);
  return match?.[1];
};

/** Where a JavaScript frame is in the original source, through tsx's source maps. */
const locate = (frame: CallFrame): { url: string; line: number } => {
  if (!frame.url.startsWith('file:')) return { url: frame.url, line: frame.lineNumber };
  const entry = findSourceMap(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string; originalLine?: number } | undefined;
  return entry?.originalSource !== undefined && entry.originalLine !== undefined ? { url: entry.originalSource, line: entry.originalLine } : { url: frame.url, line: frame.lineNumber };
};

const jsLabel = (frame: CallFrame): string => {
  const { url, line } = locate(frame);
  const name = frame.functionName || nameFromSource(url, line) || '(anonymous)';
  return `${name} ${shortFile(url)}:${line + 1}`;
};

/** The category of a sample, from its own frame and the frames that called it. */
const categorise = (frame: CallFrame, callers: readonly CallFrame[]): string => {
  if (frame.functionName === '(garbage collector)') return 'garbage collection';
  if (frame.functionName === '(program)') return 'V8 and native code outside any JavaScript call';
  const chain = [frame, ...callers];
  if (chain.some((f) => f.functionName.endsWith('crypto_sign_verify_detached'))) return 'Ed25519 verify (libsodium)';
  if (chain.some((f) => f.functionName.endsWith('crypto_sign_detached'))) return 'Ed25519 sign (libsodium)';
  const firstJs = chain.find((f) => f.url !== '');
  if (!firstJs) return 'other native code';
  const file = shortFile(locate(firstJs).url);
  if (file.startsWith('node_modules/sodium-native')) return 'other libsodium (SHA-512, random bytes)';
  if (file.startsWith('node_modules/msgpackr')) return 'msgpack encode/decode (msgpackr)';
  if (file.startsWith('node:dgram') || file.startsWith('node:net') || file.startsWith('node:internal/dgram')) return 'Node.js sockets (node:dgram, node:net)';
  if (file.startsWith('node:')) return 'Node.js core (buffers, timers, events, promises)';
  if (file.startsWith('src/')) return `drogulus ${file.split('/').slice(0, 2).join('/')}/`;
  if (file.startsWith('bench/')) return 'benchmark harness';
  return `other: ${file.split('/').slice(0, 2).join('/')}`;
};

export const summariseProfile = (profile: CpuProfile, phase: string, ops: number, top = 25): ProfileSummary => {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const callers = (id: number): CallFrame[] => {
    const out: CallFrame[] = [];
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) out.push(byId.get(p)!.callFrame);
    return out;
  };
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // timeDeltas[i] is the time before sample i: the time after a sample is the next delta.
  for (let i = 0; i < samples.length; i++) selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + (deltas[i + 1] ?? 0));
  const functions = new Map<string, number>();
  const categories = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, us: number): void => {
    map.set(key, (map.get(key) ?? 0) + us);
  };
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    // Waiting for I/O is not CPU time.
    if (!frame || frame.functionName === '(idle)' || frame.functionName === '(root)') continue;
    const up = callers(id);
    let label: string;
    if (frame.url !== '') label = jsLabel(frame);
    else if (V8_PSEUDO_FRAMES.has(frame.functionName)) label = frame.functionName;
    else {
      const caller = up.find((f) => f.url !== '');
      label = caller ? `native code called by ${jsLabel(caller)}` : `native ${frame.functionName}`;
    }
    add(functions, label, us);
    add(categories, categorise(frame, up), us);
  }
  const total = [...functions.values()].reduce((a, b) => a + b, 0);
  const rank = (map: Map<string, number>, limit: number): SelfTime[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, us]) => ({ name, msPerOp: us / 1000 / ops, percent: (100 * us) / total }));
  return { phase, ops, sampledMsPerOp: total / 1000 / ops, byCategory: rank(categories, 50), topFunctions: rank(functions, top) };
};
