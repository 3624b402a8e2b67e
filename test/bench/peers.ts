/**
 * nginx and Caddy as plain reverse proxies of the same registry: the figures
 * the gate is compared with. Configs are written to a temp dir; each proxy
 * runs in the foreground as a child of the bench and is stopped by PID.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../harness/ports.js';
import { startProcess, waitForPort } from '../harness/process.js';
import type { ManagedProcess } from '../harness/process.js';

/** A proxy (or the registry itself) the bench sends requests to. */
export interface Target {
  /** short name in the table: `direct`, `gate`, `nginx`, … */
  readonly name: string;
  /** `127.0.0.1:PORT` */
  readonly host: string;
  /** the process to stop, when the bench owns it separately from the registry */
  readonly proc?: ManagedProcess;
}

export interface NginxOptions {
  /** `proxy_buffer_size` and `proxy_buffers` of this size; undefined = `proxy_buffering off` */
  readonly buffers?: '256k';
}

/**
 * nginx with HTTP/1.1 keep-alive to the registry, unbuffered request bodies
 * (pushes stream), the client's Host passed on (the registry builds upload
 * URLs from it, which must lead back through the proxy), and
 * either `proxy_buffering off` (it then reads the registry in 4–8 KiB pieces)
 * or 256 KiB buffers. Worker processes: `auto`, nginx's packaged default.
 */
export async function startNginx(nginx: string, dir: string, upstream: string, name: string, opts: NginxOptions = {}): Promise<Target> {
  const home = join(dir, name);
  await mkdir(home, { recursive: true });
  const port = await freePort();
  const buffering =
    opts.buffers === undefined
      ? ['proxy_buffering off;']
      : ['proxy_buffering on;', 'proxy_buffer_size 256k;', 'proxy_buffers 8 256k;', 'proxy_busy_buffers_size 512k;', 'proxy_max_temp_file_size 0;'];
  const conf = [
    'daemon off;',
    'user root;',
    'worker_processes auto;',
    `pid ${join(home, 'nginx.pid')};`,
    `error_log ${join(home, 'error.log')} warn;`,
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${join(home, 'body')};`,
    `  proxy_temp_path ${join(home, 'proxy')};`,
    `  fastcgi_temp_path ${join(home, 'fastcgi')};`,
    `  uwsgi_temp_path ${join(home, 'uwsgi')};`,
    `  scgi_temp_path ${join(home, 'scgi')};`,
    `  upstream registry { server ${upstream}; keepalive 64; }`,
    '  server {',
    `    listen 127.0.0.1:${port};`,
    '    client_max_body_size 0;',
    '    location / {',
    '      proxy_pass http://registry;',
    '      proxy_http_version 1.1;',
    '      proxy_set_header Connection "";',
    '      proxy_set_header Host $http_host;',
    '      proxy_set_header X-Forwarded-Proto $scheme;',
    '      proxy_request_buffering off;',
    ...buffering.map((line) => `      ${line}`),
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
  const confPath = join(home, 'nginx.conf');
  await writeFile(confPath, conf);
  const proc = await startProcess(nginx, ['-p', home, '-c', confPath, '-e', join(home, 'error.log')]);
  await waitForPort(proc, port);
  return { name, host: `127.0.0.1:${port}`, proc };
}

/** Caddy's `reverse_proxy` with `flush_interval -1` (stream as it arrives), admin API and HTTPS off. */
export async function startCaddy(caddy: string, dir: string, upstream: string): Promise<Target> {
  const home = join(dir, 'caddy');
  await mkdir(home, { recursive: true });
  const port = await freePort();
  const caddyfile = [
    '{',
    '  admin off',
    '  auto_https off',
    '}',
    `http://127.0.0.1:${port} {`,
    `  reverse_proxy ${upstream} {`,
    '    flush_interval -1',
    '  }',
    '}',
    '',
  ].join('\n');
  const path = join(home, 'Caddyfile');
  await writeFile(path, caddyfile);
  const env = { PATH: process.env['PATH'], HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data') };
  const proc = await startProcess(caddy, ['run', '--config', path, '--adapter', 'caddyfile'], { env });
  await waitForPort(proc, port);
  return { name: 'caddy', host: `127.0.0.1:${port}`, proc };
}
