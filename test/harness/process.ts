import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { constants } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** How a child ended: an exit code, or the signal that killed it. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A child process started by {@link startProcess}, with its recent output. */
export interface ManagedProcess {
  readonly pid: number;
  /** The command line, for error messages. */
  readonly command: string;
  /** The last ~64 KiB the child wrote to stdout. */
  stdout(): string;
  /** The last ~64 KiB the child wrote to stderr. */
  stderr(): string;
  /** Undefined while the child runs. */
  exitStatus(): ExitStatus | undefined;
  /** Settles when the child has exited and its output has been read (or 1 s later). */
  readonly exited: Promise<ExitStatus>;
  /** SIGTERM by PID, then SIGKILL once `graceMs` (default 5 s) have passed. */
  stop(graceMs?: number): Promise<void>;
}

/** What a one-shot command printed and how it ended (128 + n when killed by signal n). */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export interface RunOptions extends StartOptions {
  /** Default 60 s; the command is killed and the promise rejects when it runs longer. */
  readonly timeoutMs?: number;
  /** Fed to the command's stdin; without it stdin is /dev/null. */
  readonly input?: string | Uint8Array | Readable;
}

const DAEMON_OUTPUT_LIMIT = 64 * 1024;
const RUN_OUTPUT_LIMIT = 4 * 1024 * 1024;
const STOP_GRACE_MS = 5_000;

/** Keeps the last `limit` bytes written to it: enough to explain a failure, bounded for chatty daemons. */
class RingBuffer {
  readonly #chunks: Buffer[] = [];
  readonly #limit: number;
  #size = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    while (this.#chunks.length > 1 && this.#size - this.#chunks[0]!.length >= this.#limit) {
      this.#size -= this.#chunks.shift()!.length;
    }
  }

  toString(): string {
    const all = Buffer.concat(this.#chunks);
    return all.subarray(Math.max(0, all.length - this.#limit)).toString('utf8');
  }
}

// Best effort against leaked registries and daemons: a worker that exits
// without stopping its children takes them along. (A worker killed by a
// signal cannot; tests stop what they start in afterAll.)
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

interface Tracked {
  readonly handle: ManagedProcess;
  readonly child: ChildProcess;
  /** Settles once the child has exited and its stdout and stderr are drained. */
  readonly closed: Promise<void>;
}

async function track(cmd: string, args: readonly string[], opts: StartOptions, stdin: 'ignore' | 'pipe', limit: number): Promise<Tracked> {
  const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: [stdin, 'pipe', 'pipe'] });
  const command = [cmd, ...args].join(' ');
  try {
    await once(child, 'spawn');
  } catch (error) {
    throw new Error(`${command}: cannot start`, { cause: error });
  }
  live.add(child);
  // After a successful spawn only kill() can fail; that must not crash the test worker.
  child.on('error', () => {});
  const out = new RingBuffer(limit);
  const err = new RingBuffer(limit);
  child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
  let status: ExitStatus | undefined;
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      status = { code, signal };
      resolve(status);
    });
  }).then(async (exit) => {
    // 'exit' can come before the last output is read: wait for the pipes to
    // drain, but not for a grandchild that holds them open.
    await settlesWithin(closed, 1_000);
    return exit;
  });
  const pid = child.pid!;
  const handle: ManagedProcess = {
    pid,
    command,
    stdout: () => out.toString(),
    stderr: () => err.toString(),
    exitStatus: () => status,
    exited,
    async stop(graceMs = STOP_GRACE_MS) {
      if (status !== undefined) return;
      process.kill(pid, 'SIGTERM');
      if (await settlesWithin(exited, graceMs)) return;
      if (status === undefined) process.kill(pid, 'SIGKILL');
      await exited;
    },
  };
  return { handle, child, closed };
}

/** Starts a long-running child (a server, a daemon) with its output captured. */
export async function startProcess(cmd: string, args: readonly string[], opts: StartOptions = {}): Promise<ManagedProcess> {
  return (await track(cmd, args, opts, 'ignore', DAEMON_OUTPUT_LIMIT)).handle;
}

/** An error naming the process and the problem, followed by what it printed. */
export function processError(proc: ManagedProcess, problem: string): Error {
  return new Error(`${proc.command}: ${problem}\n--- stderr ---\n${proc.stderr()}\n--- stdout ---\n${proc.stdout()}`);
}

/**
 * Polls `ready` every 50 ms until it returns true. Fails, with the child's
 * output in the message, when the child exits first or `timeoutMs` passes.
 */
export async function waitUntil(proc: ManagedProcess, what: string, ready: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitStatus() !== undefined) {
      const status = await proc.exited;
      throw processError(proc, `exited (${describeExit(status)}) before ${what}`);
    }
    if (await ready()) return;
    if (Date.now() > deadline) throw processError(proc, `${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Waits until 127.0.0.1:`port` accepts a TCP connection. */
export function waitForPort(proc: ManagedProcess, port: number, timeoutMs?: number): Promise<void> {
  return waitUntil(proc, `127.0.0.1:${port} accepting connections`, () => canConnect(port), timeoutMs);
}

/** Waits until `GET url` answers `status` (default 200). */
export function waitForUrl(proc: ManagedProcess, url: string, opts: { status?: number; timeoutMs?: number } = {}): Promise<void> {
  const status = opts.status ?? 200;
  return waitUntil(proc, `GET ${url} answering ${status}`, () => answers(url, status), opts.timeoutMs);
}

/**
 * Runs a command to completion. A non-zero exit is a result, not an error —
 * tests assert denials through it; only failing to start or running past the
 * timeout reject.
 */
export async function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const { handle, child, closed } = await track(cmd, args, opts, opts.input === undefined ? 'ignore' : 'pipe', RUN_OUTPUT_LIMIT);
  const fed = opts.input === undefined ? Promise.resolve() : feed(child, opts.input);
  if (!(await settlesWithin(closed, timeoutMs))) {
    await handle.stop(0);
    throw processError(handle, `did not finish within ${timeoutMs} ms`);
  }
  const status = await handle.exited;
  const code = status.code ?? 128 + (status.signal === null ? 0 : constants.signals[status.signal]);
  const inputError = await fed;
  if (code === 0 && inputError !== undefined) throw new Error(`${handle.command}: writing stdin failed`, { cause: inputError });
  return { code, stdout: handle.stdout(), stderr: handle.stderr() };
}

// Resolves with the error rather than rejecting: a command that exits early
// breaks the pipe, and then its exit code is the better explanation.
async function feed(child: ChildProcess, input: string | Uint8Array | Readable): Promise<unknown> {
  const source = input instanceof Readable ? input : Readable.from([input]);
  try {
    await pipeline(source, child.stdin!);
    return undefined;
  } catch (error) {
    return error;
  }
}

function describeExit(status: ExitStatus): string {
  return status.signal === null ? `code ${status.code}` : `signal ${status.signal}`;
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(resolve, ms, false);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function answers(url: string, status: number): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.status === status;
  } catch {
    return false;
  }
}
