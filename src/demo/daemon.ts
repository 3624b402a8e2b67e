/**
 * The demo's child processes (the registry, the IdP): output to a log file in
 * the work dir, readiness by polling a URL, and stop by PID.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { GateError } from '../errors.js';

/** How a child ended: an exit code, or the signal that killed it. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running child process. */
export interface Daemon {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Settles when the child has exited, for whatever reason. */
  readonly exited: Promise<ExitStatus>;
  /** SIGTERM by PID, then SIGKILL after `graceMs`; resolves once the child is gone. */
  stop(graceMs?: number): Promise<void>;
}

const STOP_GRACE_MS = 5_000;
const POLL_MS = 100;
const LOG_TAIL_BYTES = 2_000;

/**
 * Spawns `cmd` with stdout and stderr appended to `logFile`. A command that
 * is not installed throws `DEMO_NOT_INSTALLED` (its message names the command).
 */
export async function startDaemon(name: string, cmd: string, args: readonly string[], logFile: string): Promise<Daemon> {
  const log = openSync(logFile, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', log, log] });
  closeSync(log);
  try {
    await once(child, 'spawn');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new GateError(missing ? 'DEMO_NOT_INSTALLED' : 'DEMO_START_FAILED', `${name}: cannot run ${cmd}`, { cause: error });
  }
  // After a successful spawn only kill() can fail, and stop() checks for that.
  child.on('error', () => {});
  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => resolve((status = { code, signal })));
  });
  const pid = child.pid!;
  return {
    name,
    pid,
    logFile,
    exited,
    async stop(graceMs = STOP_GRACE_MS) {
      if (status !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => status === undefined && child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Polls `GET url` until it answers 200. Throws `DEMO_START_FAILED`, with the
 * end of the child's log, when the child exits first or `timeoutMs` passes.
 */
export async function waitUntilReady(daemon: Daemon, url: string, timeoutMs = 15_000): Promise<void> {
  let exit: ExitStatus | undefined;
  void daemon.exited.then((status) => (exit = status));
  const deadline = Date.now() + timeoutMs;
  while (!(await answers200(url))) {
    const problem = exit !== undefined ? `exited (${describe(exit)})` : Date.now() > deadline ? `did not answer ${url} within ${timeoutMs} ms` : null;
    if (problem !== null) throw new GateError('DEMO_START_FAILED', `${daemon.name} ${problem}; the end of its log:\n${logTail(daemon.logFile)}`);
    await sleep(POLL_MS);
  }
}

/** The last lines a child wrote, for error messages. */
export function logTail(logFile: string): string {
  try {
    const tail = readFileSync(logFile, 'utf8').slice(-LOG_TAIL_BYTES).trimEnd();
    return tail === '' ? '(empty)' : tail;
  } catch {
    return '(no log)';
  }
}

async function answers200(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

function describe(status: ExitStatus): string {
  return status.signal === null ? `code ${status.code}` : `signal ${status.signal}`;
}
