/**
 * How the UI writes ids, sizes and times for people. Pure functions: the
 * current time is passed in.
 */

/** The first `chars` hex digits and an ellipsis: enough to tell ids apart on screen. */
export const shortHex = (hex: string, chars = 12): string => (hex.length > chars ? `${hex.slice(0, chars)}…` : hex);

export const formatBytes = (n: number): string => {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
};

const spans: ReadonlyArray<readonly [number, string]> = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'min'],
  [1000, 's'],
];

/** A duration in its largest whole unit: "3 h", "12 s", "0 s". */
export const formatDuration = (ms: number): string => {
  const abs = Math.abs(ms);
  for (const [unit, label] of spans) if (abs >= unit) return `${Math.floor(abs / unit)} ${label}`;
  return '0 s';
};

/** "12 s ago", "in 3 h", or "never" for 0. */
export const formatRelative = (atMs: number, nowMs: number): string => {
  if (atMs <= 0) return 'never';
  const delta = atMs - nowMs;
  if (Math.abs(delta) < 1000) return 'just now';
  return delta < 0 ? `${formatDuration(delta)} ago` : `in ${formatDuration(delta)}`;
};

export const formatExpiry = (expiresMs: number, nowMs: number): string => {
  if (expiresMs === 0) return 'never';
  return expiresMs <= nowMs ? `expired ${formatDuration(nowMs - expiresMs)} ago` : `in ${formatDuration(expiresMs - nowMs)}`;
};

export const isoTime = (ms: number): string => new Date(ms).toISOString();

export const clockTime = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
