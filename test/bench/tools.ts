/**
 * The programs the bench drives. Each is found on PATH, or installed with
 * apt-get when the bench runs as root on Debian (as the issue asks: a fresh
 * machine installs its peers), or reported missing with the reason.
 */
import { run } from '../harness/process.js';

/** A program the bench needs, and the Debian package that ships it. */
export interface Tool {
  readonly command: string;
  readonly aptPackage: string;
}

export const TOOLS = {
  registry: { command: 'docker-registry', aptPackage: 'docker-registry' },
  skopeo: { command: 'skopeo', aptPackage: 'skopeo' },
  curl: { command: 'curl', aptPackage: 'curl' },
  hey: { command: 'hey', aptPackage: 'hey' },
  nginx: { command: 'nginx', aptPackage: 'nginx' },
  caddy: { command: 'caddy', aptPackage: 'caddy' },
} as const satisfies Record<string, Tool>;

/** The absolute path of the program, or why it is not available. */
export type Found = { readonly path: string } | { readonly missing: string };

/** Finds `tool`, installing its package with apt-get when that is possible. */
export async function ensureTool(tool: Tool): Promise<Found> {
  const path = await which(tool.command);
  if (path !== undefined) return { path };
  if (process.getuid?.() !== 0 || (await which('apt-get')) === undefined) {
    return { missing: `${tool.command} not on PATH, and apt-get needs root (install the ${tool.aptPackage} package)` };
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const result = await run('apt-get', ['install', '-y', '--no-install-recommends', tool.aptPackage], { env, timeoutMs: 600_000 });
  const installed = await which(tool.command);
  if (installed !== undefined) return { path: installed };
  return { missing: `apt-get install ${tool.aptPackage} failed (exit ${result.code}): ${lastLine(result.stderr)}` };
}

async function which(command: string): Promise<string | undefined> {
  // nginx lives in /usr/sbin, which a non-login PATH may lack.
  const path = `${process.env['PATH'] ?? ''}:/usr/sbin:/usr/local/sbin`;
  const result = await run('sh', ['-c', `command -v ${command}`], { env: { ...process.env, PATH: path } });
  const found = result.stdout.trim();
  return result.code === 0 && found !== '' ? found : undefined;
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}
