/**
 * The benchmark harness end to end, small: drogulus alone, 8 nodes, 20 puts
 * and gets, through the same command `npm run bench` runs. It checks the
 * shape of the JSON report and that every operation succeeded, not speed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(os.tmpdir(), 'drogulus-bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Phase {
  planned: number;
  completed: number;
  successRate: number;
  opsPerSec: number;
  cpuMsPerOp: number;
  latencyMs: { p50: number; p95: number; p99: number };
  perOp: Record<string, number>;
}

describe('npm run bench', () => {
  it('runs drogulus at 8 nodes and reports every metric with all operations successful', async () => {
    const out = join(dir, 'smoke.json');
    const args = ['bench/dht-bench.ts', '--systems', 'drogulus', '--nodes', '8', '--ops', '20', '--sequential-ops', '10', '--phase-limit-s', '15', '--repeat', '1', '--out', out, '--no-docs'];
    await promisify(execFile)(join(ROOT, 'node_modules/.bin/tsx'), args, { cwd: ROOT, timeout: 45_000 });
    const report = JSON.parse(readFileSync(out, 'utf8'));

    expect(report.machine).toEqual({ cpu: expect.any(String), cores: expect.any(Number), memoryBytes: expect.any(Number), node: process.version, os: expect.any(String), date: expect.any(String) });
    expect(report.failures).toEqual([]);
    expect(report.runs).toHaveLength(1);
    const run = report.runs[0];
    expect(run).toMatchObject({ system: 'drogulus', nodes: 8, blockedSends: 0 });
    expect(run.rssPerNodeBytes).toEqual(expect.any(Number));
    const phases: Phase[] = [run.put, run.gets.get.concurrent, run.gets.get.sequential];
    expect(phases.map((p) => [p.planned, p.completed, p.successRate])).toEqual([
      [20, 20, 1],
      [20, 20, 1],
      [10, 10, 1],
    ]);
    for (const p of phases) {
      expect(p.opsPerSec).toBeGreaterThan(0);
      expect(p.cpuMsPerOp).toBeGreaterThan(0);
      expect(p.latencyMs.p50).toBeLessThanOrEqual(p.latencyMs.p99);
      expect(p.perOp.messages).toBeGreaterThan(0);
      expect(p.perOp.requests).toBeGreaterThan(0);
    }
    for (const floor of [run.cryptoFloor.put, run.cryptoFloor.get, run.cryptoFloor.getSequential]) {
      expect(floor.cost).toMatchObject({ signUs: expect.any(Number), verifyUs: expect.any(Number), macUs: expect.any(Number), agreeUs: expect.any(Number) });
      // Every put signs its item; every get checks the item it finds.
      expect(floor.verifiesPerOp).toBeGreaterThanOrEqual(1);
      expect(floor.floorMsPerOp).toBeGreaterThan(0);
      expect(floor.ratio).toBeGreaterThan(0);
    }
    expect(run.cryptoFloor.put.signsPerOp).toBeGreaterThanOrEqual(1);
    expect(report.comparisons[0].rows.map((r: { metric: string }) => r.metric)).toEqual(expect.arrayContaining(['put ops/s (c16)', 'get p50 ms (c1)', 'RSS per node KiB']));
    // Without hyperdht the comparisons cannot be judged, but success and the floor (alone, and with the datagrams) can.
    expect(report.verdicts.map((v: { status: string }) => v.status)).toEqual(['NOT EVALUATED', 'NOT EVALUATED', 'NOT EVALUATED', 'MET', expect.stringMatching(/^(NOT )?MET$/), expect.stringMatching(/^(NOT )?MET$/)]);
    for (const floor of [run.cryptoFloor.put, run.cryptoFloor.get, run.cryptoFloor.getSequential]) {
      expect(floor.datagramUs).toBeGreaterThan(0);
      expect(floor.floorWithDatagramsMsPerOp).toBeGreaterThan(floor.floorMsPerOp);
    }
  }, 60_000);
});
