/**
 * `audit.file` in the config: optional, a path relative to the config file
 * (as dataDir is), and never empty or a directory's path.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load.js';
import { formatProblem } from '../../../src/config/problems.js';

const SOURCE = '/etc/zot-gate/zot-gate.json';
const minimal = {
  upstream: { url: 'http://127.0.0.1:5051' },
  dataDir: '/var/lib/zot-gate',
  accessControl: { repositories: {} },
};

function outcome(audit: unknown): { file: string | null } | string[] {
  try {
    return parseConfig(audit === undefined ? minimal : { ...minimal, audit }, SOURCE).audit;
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
}

describe('audit.file', () => {
  it.each([
    { name: 'absent: the log stream only', audit: undefined, expected: { file: null } },
    { name: 'an empty block', audit: {}, expected: { file: null } },
    { name: 'absolute', audit: { file: '/var/log/zot-gate/audit.log' }, expected: { file: '/var/log/zot-gate/audit.log' } },
    { name: 'relative to the config file', audit: { file: 'audit/audit.log' }, expected: { file: '/etc/zot-gate/audit/audit.log' } },
    { name: 'empty', audit: { file: '' }, expected: ['audit.file: must name a file (non-empty)'] },
    { name: 'a directory', audit: { file: '/var/log/' }, expected: ['audit.file: must name a file (non-empty)'] },
    { name: 'a typo beside it', audit: { file: 'a.log', fsync: true }, expected: ['audit.fsync: unknown field (a typo?) (object-additional-properties)'] },
  ])('$name', ({ audit, expected }) => {
    expect(outcome(audit)).toEqual(expected);
  });
});
