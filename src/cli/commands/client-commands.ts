/**
 * The client commands: set, get, whois, peers, status. Each talks to the
 * running node's local API; exit codes: 0 success, 1 not found, 2 bad input,
 * 3 node or network failure.
 */
import type { Command } from 'commander';
import { ApiError, type ItemJson } from '../../api/client.js';
import { fromHex } from '../../crypto/bytes.js';
import { apiClient, context, parseInteger, parseNonNegative, withApi, type ClientOptions } from '../common.js';
import { CliError, ExitCode, notFound, usageError } from '../exit-codes.js';
import { ProgressBar, startSpinner } from '../output.js';

const collectMeta = (pair: string, previous: Record<string, string> = {}): Record<string, string> => {
  const at = pair.indexOf('=');
  if (at <= 0) throw usageError(`--meta takes KEY=VALUE, got "${pair}"`);
  return { ...previous, [pair.slice(0, at)]: pair.slice(at + 1) };
};

/** API failures become exit codes: unreachable or server errors 3, bad input 2, absent 1. */
const asCliError = (error: unknown): never => {
  if (error instanceof ApiError) {
    if (error.status === 404) throw notFound(error.message);
    if (error.status >= 400 && error.status < 500 && error.status !== 401 && error.status !== 408) throw usageError(error.message);
    if (error.status === 401) throw new CliError(`${error.message} (is this the node's data dir? the token is read from its api-token file)`, ExitCode.Usage);
    throw new CliError(error.code === 'unreachable' ? `cannot reach the node's API: ${error.message} (is \`drogulus start\` running?)` : error.message, ExitCode.Failure);
  }
  throw error;
};

/** The value as bytes to print: bytes as they are, JSON as its text. */
export const valueBytes = (item: ItemJson): Buffer => (item.value_type === 'bytes' ? Buffer.from(item.value, 'base64') : Buffer.from(item.value, 'utf8'));

export const registerClientCommands = (program: Command): void => {
  withApi(program.command('set <name> <value>'))
    .description('sign VALUE under NAME with this node\'s key and store it on the network')
    .option('--expires <seconds>', 'lifetime in seconds (0 = never expires)', parseNonNegative('--expires'))
    .option('--duplicate <n>', 'number of nodes to store it on', parseInteger('--duplicate', 1, 20))
    .option('--meta <key=value>', 'metadata to sign with the value (repeatable)', collectMeta)
    .option('--json-value', 'VALUE is JSON text, stored as JSON rather than as plain text')
    .action(async (name: string, value: string, opts: ClientOptions & { expires?: number; duplicate?: number; meta?: Record<string, string>; jsonValue?: boolean }) => {
      const { out } = context(opts);
      let parsed: unknown = value;
      if (opts.jsonValue) {
        try {
          parsed = JSON.parse(value);
        } catch (error) {
          throw usageError(`--json-value: VALUE is not valid JSON (${(error as Error).message})`);
        }
      }
      const bar = new ProgressBar('replicas acknowledged');
      let acknowledged = 0;
      let expected = opts.duplicate ?? 20;
      const result = await apiClient(opts)
        .putItem(
          name,
          { value: parsed, value_type: opts.jsonValue ? 'json' : 'text', expires: opts.expires, duplicate: opts.duplicate, meta: opts.meta },
          {
            onProgress: (event) => {
              if (event.type === 'lookup-done') expected = event.replicas;
              if (event.type === 'replica' && event.status === 'stored') acknowledged++;
              bar.update(acknowledged, expected);
            },
          },
        )
        .catch(asCliError);
      bar.finish();
      if (result.stored === 0) throw new CliError(`no node acknowledged the item (attempted ${result.attempted})`, ExitCode.Failure);
      out.result(result, `stored on ${result.stored} of ${result.attempted} nodes\nkey ${result.key}`);
    });

  withApi(program.command('get [public_key] [name]'))
    .description('fetch the value PUBLIC_KEY published under NAME (or --key KEY) and print it')
    .option('--key <key>', 'fetch by item key (128 hex characters) instead')
    .option('--fresh', 'ask the network even if the node holds a copy')
    .action(async (publicKey: string | undefined, name: string | undefined, opts: ClientOptions & { key?: string; fresh?: boolean }) => {
      const { out } = context(opts);
      const client = apiClient(opts);
      let request: Promise<ItemJson>;
      if (opts.key !== undefined) {
        if (publicKey !== undefined) throw usageError('give either --key KEY or PUBLIC_KEY NAME, not both');
        if (!fromHex(opts.key, 64)) throw usageError('--key must be 128 hex characters');
        request = client.getItem(opts.key, { fresh: opts.fresh });
      } else {
        if (publicKey === undefined || name === undefined) throw usageError('give PUBLIC_KEY NAME, or --key KEY');
        if (!fromHex(publicKey, 32)) throw usageError('PUBLIC_KEY must be 64 hex characters');
        request = client.getItemByName(publicKey, name, { fresh: opts.fresh });
      }
      const stop = startSpinner('looking up');
      const item = await request.catch(asCliError).finally(stop);
      if (out.json) out.result(item, '');
      else process.stdout.write(Buffer.concat([valueBytes(item), Buffer.from('\n')]));
    });

  withApi(program.command('whois <public_key>'))
    .description('show the profile a node published under its public key')
    .action(async (publicKey: string, opts: ClientOptions) => {
      const { out } = context(opts);
      if (!fromHex(publicKey, 32)) throw usageError('PUBLIC_KEY must be 64 hex characters');
      const stop = startSpinner('looking up');
      const result = await apiClient(opts).whois(publicKey).catch(asCliError).finally(stop);
      const lines = Object.entries(result.profile).map(([k, v]) => `${k.padEnd(12)}${v}`);
      out.result(result, lines.length ? lines.join('\n') : '(empty profile)');
    });

  withApi(program.command('peers'))
    .description('list the contacts in the running node\'s routing table')
    .action(async (opts: ClientOptions) => {
      const { out } = context(opts);
      const { peers } = await apiClient(opts).peers().catch(asCliError);
      const lines = peers.map((p) => `${p.node_id.slice(0, 16)}…  ${p.host}:${p.port}  seen ${new Date(p.last_seen).toISOString()}  failures ${p.failures}${p.rtt_ms !== undefined && p.rtt_ms !== null ? `  rtt ${Math.round(p.rtt_ms)} ms` : ''}`);
      out.result({ peers }, lines.length ? lines.join('\n') : '(no peers)');
    });

  withApi(program.command('status'))
    .description('show the running node\'s identity and state')
    .action(async (opts: ClientOptions) => {
      const { out } = context(opts);
      const s = await apiClient(opts).status().catch(asCliError);
      out.result(s, `public key  ${s.public_key}\nnode id     ${s.node_id}\nversion     ${s.version}\nport        ${s.port}\npeers       ${s.peers}\nitems       ${s.items}`);
    });
};
