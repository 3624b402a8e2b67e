/**
 * The demo gate: a config in the work dir that names the demo registry and
 * IdP, the gate itself running in this process, and a CI key.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { ApiKeyStore } from '../identity/apikey-store.js';
import { createLogger } from '../observability/logger.js';
import { startGate } from '../start.js';

export interface DemoGate {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly configFile: string;
  readonly logFile: string;
  readonly apiKeys: ApiKeyStore;
  stop(): Promise<void>;
}

export interface DemoGateOptions {
  readonly workDir: string;
  readonly port: number;
  readonly upstream: string;
  readonly issuer: string;
  readonly credentialsFile: string;
}

/** The CI account the demo makes a key for, and the group the policy lets push. */
export const CI_USER = 'ci';
export const CI_GROUPS: readonly string[] = ['artifact-workloads'];

/** How long in-flight requests get when the demo stops. */
const DRAIN_MS = 3_000;

/** Writes `zot-gate.json` into the work dir, validates it as `serve` would, and starts it as `serve` does, on 127.0.0.1. */
export async function startDemoGate(opts: DemoGateOptions): Promise<DemoGate> {
  const configFile = join(opts.workDir, 'zot-gate.json');
  await writeFile(configFile, `${JSON.stringify(demoConfig(opts), null, 2)}\n`);
  const config = loadConfig(configFile);
  const logFile = join(opts.workDir, 'gate.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  const logger = createLogger(config.log.level, log);
  const closeLog = async (): Promise<void> => {
    log.end();
    await once(log, 'close');
  };
  const gate = await startGate(config, { logger }).catch(async (error: unknown) => {
    await closeLog();
    throw error;
  });
  const stop = async (): Promise<void> => {
    await gate.stop(DRAIN_MS);
    await closeLog();
  };
  return { url: `http://127.0.0.1:${gate.port}`, configFile, logFile, apiKeys: gate.apiKeys, stop };
}

/** A key for {@link CI_USER}, carrying {@link CI_GROUPS}, that does not expire. */
export async function createCiKey(apiKeys: ApiKeyStore): Promise<string> {
  const { key } = await apiKeys.create({ owner: CI_USER, label: 'demo', expiresAt: null, scopes: [], groups: CI_GROUPS });
  return key;
}

/** The demo's policy: anyone reads, artifact-workloads pushes new tags, admins do anything, `v*` tags never change. */
function demoConfig(opts: DemoGateOptions) {
  return {
    listen: { host: '127.0.0.1', port: opts.port },
    upstream: { url: opts.upstream },
    dataDir: './data',
    auth: {
      openid: {
        providers: {
          oidc: {
            name: 'the demo IdP',
            // http is accepted for a loopback issuer only (README, "How clients prove who they are")
            issuer: opts.issuer,
            credentialsFile: opts.credentialsFile,
            claimMapping: { username: 'preferred_username', groups: 'groups' },
          },
        },
      },
    },
    accessControl: {
      repositories: {
        '**': {
          anonymousPolicy: ['read'],
          policies: [{ groups: [...CI_GROUPS], actions: ['read', 'create'] }],
        },
      },
      adminPolicy: { groups: ['admins'], actions: ['read', 'create', 'update', 'delete'] },
      metrics: { anonymousPolicy: ['read'] },
    },
    immutableTags: [{ repositories: ['**'], tags: ['v*'] }],
  };
}
