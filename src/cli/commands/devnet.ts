/**
 * `drogulus devnet`: N real nodes on 127.0.0.1 in one process, each with its
 * own temporary data dir and API, all joined; prints commands to try. This is
 * what `npm start` runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import { toHex } from '../../crypto/bytes.js';
import { Identity } from '../../crypto/identity.js';
import { ensureApiToken } from '../api-token.js';
import { context, parseInteger, withCommon, type CommonOptions } from '../common.js';
import { ensureDataDir } from '../data-dir.js';
import { runNode, type RunningNode } from '../run-node.js';

interface DevnetOptions extends CommonOptions {
  nodes: number;
  basePort: number;
  apiPort: number;
  keep?: boolean;
}

/** How the printed commands should invoke drogulus: the way this process was started. */
const commandPrefix = (): string => (/src[\\/]cli[\\/]main\.ts$/.test(process.argv[1] ?? '') ? 'npm run -s drogulus --' : 'drogulus');

export const registerDevnet = (program: Command): void => {
  withCommon(program.command('devnet'))
    .description('run N joined nodes on 127.0.0.1 in this process, for trying drogulus out')
    .option('--nodes <n>', 'number of nodes', parseInteger('--nodes', 1, 200), 10)
    .option('--base-port <port>', 'DHT port of the first node; the others follow', parseInteger('--base-port', 1, 65000), 7000)
    .option('--api-port <port>', 'API port of the first node; the others follow', parseInteger('--api-port', 1, 65000), 1909)
    .option('--keep', 'keep the data dirs when stopping')
    .action(async (opts: DevnetOptions) => {
      const { out } = context(opts);
      const root = opts.dataDir ? ensureDataDir(opts.dataDir) : mkdtempSync(join(tmpdir(), 'drogulus-devnet-'));
      const logger = pino({ level: 'info', base: undefined }, pino.destination({ dest: join(root, 'devnet.log'), mkdir: true, sync: true }));
      const nodes: RunningNode[] = [];
      const stopAll = async (): Promise<void> => {
        await Promise.all(nodes.map((n) => n.stop()));
        if (!opts.keep && !opts.dataDir) rmSync(root, { recursive: true, force: true });
      };
      try {
        for (let i = 0; i < opts.nodes; i++) {
          const dataDir = ensureDataDir(join(root, `node-${i}`));
          const running = await runNode({
            identity: Identity.generate(),
            dataDir,
            host: '127.0.0.1',
            port: opts.basePort + i,
            apiHost: '127.0.0.1',
            apiPort: opts.apiPort + i,
            apiToken: ensureApiToken(dataDir),
            logger: logger.child({ node: i }),
            profile: { name: `devnet node ${i}`, notes: 'a node of a local drogulus devnet' },
          });
          nodes.push(running);
          if (i > 0) {
            const first = nodes[0].node;
            await running.join([{ ...first.address, publicKey: first.publicKey }]);
          }
        }
        // The first node joined alone; once the others exist it meets them and publishes its profile.
        if (nodes.length > 1) await nodes[0].join([{ ...nodes[1].node.address, publicKey: nodes[1].node.publicKey }]);
      } catch (error) {
        await stopAll();
        throw error;
      }
      const cmd = commandPrefix();
      const first = nodes[0];
      const pk = toHex(first.node.publicKey);
      const other = nodes[Math.min(1, nodes.length - 1)];
      const commands = [
        `${cmd} set greeting "hello, drogulus" --data-dir ${join(root, 'node-0')} --api ${first.apiUrl}`,
        `${cmd} get ${pk} greeting --api ${other.apiUrl}`,
        `${cmd} whois ${pk} --api ${other.apiUrl}`,
        `${cmd} peers --api ${first.apiUrl}`,
        `${cmd} status --api ${first.apiUrl}`,
      ];
      out.result(
        {
          data_dir: root,
          nodes: nodes.map((n) => ({ public_key: toHex(n.node.publicKey), port: n.transport.localAddress.port, api: n.apiUrl, data_dir: join(root, `node-${nodes.indexOf(n)}`) })),
          commands,
        },
        [
          `devnet: ${nodes.length} nodes on 127.0.0.1, ports ${opts.basePort}-${opts.basePort + nodes.length - 1}; data and logs in ${root}`,
          `node 0: public key ${pk}, API ${first.apiUrl}`,
          '',
          'Try:',
          ...commands.map((c) => `  ${c}`),
          '',
          'Press Ctrl-C to stop.',
        ].join('\n'),
      );
      await new Promise<void>((resolve) => {
        const onSignal = (): void => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          void stopAll().then(resolve);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
    });
};
