import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WEB_TOKEN_FILE, projectWebToken } from './webToken';

const posix = process.platform !== 'win32';
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'corda-token-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the project web token', () => {
  it('is created once, random 24 bytes in hex, owner-only, and the same on the next start', () => {
    const first = projectWebToken(dir);
    expect(first).toMatch(/^[0-9a-f]{48}$/);
    const file = join(dir, WEB_TOKEN_FILE);
    expect(readFileSync(file, 'utf8').trim()).toBe(first);
    if (posix) expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(projectWebToken(dir)).toBe(first);
    expect(projectWebToken(mkdtempSync(join(dir, 'other-')))).not.toBe(first);
  });

  it('is replaced when the file holds no token', () => {
    writeFileSync(join(dir, WEB_TOKEN_FILE), 'not a token\n', { mode: 0o600 });
    const token = projectWebToken(dir);
    expect(token).toMatch(/^[0-9a-f]{48}$/);
    expect(readFileSync(join(dir, WEB_TOKEN_FILE), 'utf8').trim()).toBe(token);
  });

  it.skipIf(!posix)('is replaced, owner-only, when others could read the file', () => {
    const first = projectWebToken(dir);
    const file = join(dir, WEB_TOKEN_FILE);
    chmodSync(file, 0o644);
    const second = projectWebToken(dir);
    expect(second).not.toBe(first);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
