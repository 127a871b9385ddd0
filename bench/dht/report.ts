/**
 * Turns the runs into what the issue asks for: per network size, every metric
 * for drogulus and each peer with the ratio drogulus/peer; the crypto floor of
 * drogulus; and a verdict for each acceptance target. Pure: data in, data and
 * Markdown out.
 */
import type { CryptoFloor } from './crypto-floor.js';
import type { PhaseResult } from './phase.js';
import type { SystemRun } from './workload.js';

/** One column: a system, and for its gets one of its modes. */
interface View {
  readonly label: string;
  readonly run: SystemRun;
  readonly mode: string;
}

type Better = 'higher' | 'lower' | 'info';

interface MetricDef {
  readonly name: string;
  readonly better: Better;
  readonly read: (run: SystemRun, mode: string) => number;
}

export interface MetricRow {
  readonly metric: string;
  readonly better: Better;
  /** By column label. */
  readonly values: Readonly<Record<string, number>>;
  /** drogulus / peer, by peer column label. */
  readonly ratios: Readonly<Record<string, number>>;
}

export interface SizeComparison {
  readonly nodes: number;
  readonly columns: readonly string[];
  readonly peers: readonly string[];
  readonly rows: readonly MetricRow[];
}

export interface Verdict {
  readonly target: string;
  readonly status: 'MET' | 'NOT MET' | 'NOT EVALUATED';
  readonly detail: string;
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly node: string;
  readonly os: string;
  readonly date: string;
}

const get = (run: SystemRun, mode: string): { concurrent: PhaseResult; sequential: PhaseResult } => run.gets[mode] ?? run.gets[Object.keys(run.gets)[0]];
const pct = (x: number): number => x * 100;

const METRICS: readonly MetricDef[] = [
  { name: 'put ops/s (c16)', better: 'higher', read: (r) => r.put.opsPerSec },
  { name: 'put p50 ms (c16)', better: 'lower', read: (r) => r.put.latencyMs.p50 },
  { name: 'put p95 ms (c16)', better: 'lower', read: (r) => r.put.latencyMs.p95 },
  { name: 'put p99 ms (c16)', better: 'lower', read: (r) => r.put.latencyMs.p99 },
  { name: 'put success %', better: 'higher', read: (r) => pct(r.put.successRate) },
  { name: 'put CPU ms/op', better: 'lower', read: (r) => r.put.cpuMsPerOp },
  // What one fully used core could do: unlike ops/s, other processes on the machine hardly move it.
  { name: 'put ops per CPU-second', better: 'higher', read: (r) => 1000 / r.put.cpuMsPerOp },
  { name: 'put messages/op', better: 'lower', read: (r) => r.put.perOp.messages },
  { name: 'put requests/op', better: 'lower', read: (r) => r.put.perOp.requests },
  { name: 'put replicas acknowledged', better: 'info', read: (r) => r.put.replicasMean },
  { name: 'get ops/s (c16)', better: 'higher', read: (r, m) => get(r, m).concurrent.opsPerSec },
  { name: 'get p50 ms (c16)', better: 'lower', read: (r, m) => get(r, m).concurrent.latencyMs.p50 },
  { name: 'get p95 ms (c16)', better: 'lower', read: (r, m) => get(r, m).concurrent.latencyMs.p95 },
  { name: 'get p99 ms (c16)', better: 'lower', read: (r, m) => get(r, m).concurrent.latencyMs.p99 },
  { name: 'get success % (c16)', better: 'higher', read: (r, m) => pct(get(r, m).concurrent.successRate) },
  { name: 'get CPU ms/op (c16)', better: 'lower', read: (r, m) => get(r, m).concurrent.cpuMsPerOp },
  { name: 'get ops per CPU-second (c16)', better: 'higher', read: (r, m) => 1000 / get(r, m).concurrent.cpuMsPerOp },
  { name: 'get messages/op (c16)', better: 'lower', read: (r, m) => get(r, m).concurrent.perOp.messages },
  { name: 'get requests/op (c16)', better: 'lower', read: (r, m) => get(r, m).concurrent.perOp.requests },
  { name: 'get ops/s (c1)', better: 'higher', read: (r, m) => get(r, m).sequential.opsPerSec },
  { name: 'get p50 ms (c1)', better: 'lower', read: (r, m) => get(r, m).sequential.latencyMs.p50 },
  { name: 'get p95 ms (c1)', better: 'lower', read: (r, m) => get(r, m).sequential.latencyMs.p95 },
  { name: 'get p99 ms (c1)', better: 'lower', read: (r, m) => get(r, m).sequential.latencyMs.p99 },
  { name: 'get success % (c1)', better: 'higher', read: (r, m) => pct(get(r, m).sequential.successRate) },
  { name: 'get CPU ms/op (c1)', better: 'lower', read: (r, m) => get(r, m).sequential.cpuMsPerOp },
  { name: 'RSS per node KiB', better: 'lower', read: (r) => r.rssPerNodeBytes / 1024 },
  { name: 'heap + external per node KiB', better: 'lower', read: (r) => r.heapPerNodeBytes / 1024 },
  { name: 'routing table size (mean)', better: 'info', read: (r) => r.tableSize.mean },
];

const viewsOf = (run: SystemRun): View[] =>
  run.system === 'hyperdht'
    ? Object.keys(run.gets).map((mode) => ({ label: `hyperdht ${mode}`, run, mode }))
    : [{ label: run.system, run, mode: Object.keys(run.gets)[0] }];

export const compareAtSize = (runs: readonly SystemRun[], nodes: number): SizeComparison | undefined => {
  const atSize = runs.filter((r) => r.nodes === nodes);
  const own = atSize.find((r) => r.system === 'drogulus');
  const views = atSize.flatMap(viewsOf);
  if (views.length === 0) return undefined;
  const peers = own ? views.filter((v) => v.run !== own).map((v) => v.label) : [];
  const ownView = views.find((v) => v.run === own);
  const rows = METRICS.map((m): MetricRow => {
    const values = Object.fromEntries(views.map((v) => [v.label, m.read(v.run, v.mode)]));
    const ratios = ownView ? Object.fromEntries(peers.map((p) => [p, values[ownView.label] / values[p]])) : {};
    return { metric: m.name, better: m.better, values, ratios };
  });
  return { nodes, columns: views.map((v) => v.label), peers, rows };
};

const value = (c: SizeComparison | undefined, metric: string, column: string): number => c?.rows.find((r) => r.metric === metric)?.values[column] ?? NaN;

/** The acceptance targets of the issue, judged at `nodes` (128 in a full run). */
export const verdicts = (runs: readonly SystemRun[], nodes: number): Verdict[] => {
  const c = compareAtSize(runs, nodes);
  const own = runs.find((r) => r.nodes === nodes && r.system === 'drogulus');
  const at = `at ${nodes} nodes`;
  const judge = (target: string, ok: boolean | undefined, detail: string): Verdict => ({
    target: `${at}: ${target}`,
    status: ok === undefined ? 'NOT EVALUATED' : ok ? 'MET' : 'NOT MET',
    detail,
  });
  const out: Verdict[] = [];
  const hasPeer = c?.columns.includes('hyperdht first-value') ?? false;
  const dGet = value(c, 'get ops/s (c16)', 'drogulus');
  const hGet = value(c, 'get ops/s (c16)', 'hyperdht first-value');
  out.push(judge('drogulus get ops/s ≥ 2 × hyperdht first-value get ops/s', own && hasPeer ? dGet >= 2 * hGet : undefined, `${fmt(dGet)} vs 2 × ${fmt(hGet)} = ${fmt(2 * hGet)} (ratio ${fmtRatio(dGet / hGet)})`));
  const dPut = value(c, 'put ops/s (c16)', 'drogulus');
  const hPut = value(c, 'put ops/s (c16)', 'hyperdht first-value');
  out.push(judge('drogulus put ops/s ≥ 1.5 × hyperdht put ops/s', own && hasPeer ? dPut >= 1.5 * hPut : undefined, `${fmt(dPut)} vs 1.5 × ${fmt(hPut)} = ${fmt(1.5 * hPut)} (ratio ${fmtRatio(dPut / hPut)})`));
  const dP50 = value(c, 'get p50 ms (c1)', 'drogulus');
  const hLow = Math.min(value(c, 'get p50 ms (c1)', 'hyperdht first-value'), value(c, 'get p50 ms (c1)', 'hyperdht latest'));
  out.push(judge('drogulus get p50 at concurrency 1 ≤ 0.5 × the lower of hyperdht’s two modes', own && hasPeer ? dP50 <= 0.5 * hLow : undefined, `${fmt(dP50)} ms vs 0.5 × ${fmt(hLow)} ms = ${fmt(0.5 * hLow)} ms`));
  if (own) {
    const rates = [own.put, ...Object.values(own.gets).flatMap((g) => [g.concurrent, g.sequential])].map((p) => p.successRate);
    const lowest = Math.min(...rates);
    out.push(judge('100% success (drogulus puts and gets)', lowest === 1, `lowest success rate ${fmt(pct(lowest))}% (put ${fmt(pct(own.put.successRate))}%, gets ${Object.values(own.gets).map((g) => `${fmt(pct(g.concurrent.successRate))}% / ${fmt(pct(g.sequential.successRate))}%`).join(', ')} at c16 / c1)`));
    const floor = own.cryptoFloor?.get;
    out.push(judge('drogulus CPU per get ≤ 1.5 × its crypto floor', floor ? floor.ratio <= 1.5 : undefined, floor ? `${fmt(floor.cpuMsPerOp)} ms vs 1.5 × ${fmt(floor.floorMsPerOp)} ms = ${fmt(1.5 * floor.floorMsPerOp)} ms (ratio ${fmtRatio(floor.ratio)})` : 'no floor measured'));
    if (floor?.floorWithDatagramsMsPerOp !== undefined) {
      const withDatagrams = floor.floorWithDatagramsMsPerOp;
      out.push(
        judge(
          'drogulus CPU per get ≤ 1.5 × (its crypto floor + its messages × the CPU of a loopback datagram), for reference',
          floor.ratioWithDatagrams! <= 1.5,
          `${fmt(floor.cpuMsPerOp)} ms vs 1.5 × (${fmt(floor.floorMsPerOp)} + ${fmt(floor.messagesPerOp!)} × ${fmt(floor.datagramUs!)} µs) = ${fmt(1.5 * withDatagrams)} ms (ratio ${fmtRatio(floor.ratioWithDatagrams!)})`,
        ),
      );
    }
  } else {
    out.push(judge('100% success (drogulus puts and gets)', undefined, 'drogulus did not run'));
    out.push(judge('drogulus CPU per get ≤ 1.5 × its crypto floor', undefined, 'drogulus did not run'));
  }
  return out;
};

export const fmt = (x: number): string => {
  if (!Number.isFinite(x)) return '–';
  const abs = Math.abs(x);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
};

export const fmtRatio = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–');

const ARROW: Record<Better, string> = { higher: '↑', lower: '↓', info: '' };

export const comparisonTable = (c: SizeComparison): string => {
  const head = ['metric', ...c.columns, ...c.peers.map((p) => `drogulus / ${p}`)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const row of c.rows) {
    const cells = [`${row.metric} ${ARROW[row.better]}`.trim(), ...c.columns.map((col) => fmt(row.values[col])), ...c.peers.map((p) => fmtRatio(row.ratios[p]))];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
};

export const floorTable = (runs: readonly SystemRun[]): string => {
  const lines = [
    '| nodes | operation | mean message B | sign µs | verify µs | MAC µs | key agreement µs | signatures/op | verifications/op | MACs/op | key agreements/op | floor ms/op | CPU ms/op | CPU ÷ floor | loopback datagram µs | messages/op | floor + datagrams ms/op | CPU ÷ (floor + datagrams) |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const run of runs.filter((r) => r.system === 'drogulus' && r.cryptoFloor)) {
    const f = run.cryptoFloor!;
    const rows: Array<[string, CryptoFloor]> = [['put (c16)', f.put], ['get (c16)', f.get], ['get (c1)', f.getSequential]];
    for (const [name, x] of rows) {
      const c = x.cost;
      lines.push(
        `| ${run.nodes} | ${name} | ${x.meanMessageBytes} | ${fmt(c.signUs)} | ${fmt(c.verifyUs)} | ${fmt(c.macUs)} | ${fmt(c.agreeUs)} | ${fmt(x.signsPerOp)} | ${fmt(x.verifiesPerOp)} | ${fmt(x.macsPerOp)} | ${fmt(x.keyAgreementsPerOp)} | ${fmt(x.floorMsPerOp)} | ${fmt(x.cpuMsPerOp)} | ${fmtRatio(x.ratio)} | ${fmt(x.datagramUs ?? NaN)} | ${fmt(x.messagesPerOp ?? NaN)} | ${fmt(x.floorWithDatagramsMsPerOp ?? NaN)} | ${fmtRatio(x.ratioWithDatagrams ?? NaN)} |`,
      );
    }
  }
  return lines.join('\n');
};

export const verdictTable = (list: readonly Verdict[]): string =>
  ['| target | verdict | figures |', '|---|---|---|', ...list.map((v) => `| ${v.target} | **${v.status}** | ${v.detail} |`)].join('\n');

export const profileTables = (runs: readonly SystemRun[], top = 20): string =>
  runs
    .flatMap((run) =>
      (run.profiles ?? []).map((p) => {
        const rows = (list: typeof p.topFunctions, n: number): string[] => list.slice(0, n).map((f) => `| ${f.name.replace(/\|/g, '\\|')} | ${f.msPerOp.toFixed(3)} | ${f.percent.toFixed(1)}% |`);
        return [
          `#### ${run.system}, ${run.nodes} nodes, ${p.phase}: ${fmt(p.sampledMsPerOp)} ms of CPU samples per operation`,
          '',
          '| self time by category | ms/op | share |',
          '|---|---:|---:|',
          ...rows(p.byCategory, 50),
          '',
          '| self time by function | ms/op | share |',
          '|---|---:|---:|',
          ...rows(p.topFunctions, top),
        ].join('\n');
      }),
    )
    .join('\n\n');

export const machineLine = (m: Machine): string =>
  `${m.cpu}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB, Node ${m.node}, ${m.os}; ${m.date}`;
