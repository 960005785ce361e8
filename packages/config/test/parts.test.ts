import { describe, expect, it } from 'vitest';
import { ConfigError } from '@alter0/core';
import { parseDuration } from '../src/duration.js';
import { isLoopbackHost, splitListen } from '../src/listen.js';
import { allowedHosts } from '../src/hosts.js';
import { formatConfigReport, redactValue } from '../src/report.js';
import { loadConfig } from '../src/load.js';
import { envNameFor } from '../src/env.js';

describe('parseDuration', () => {
  it('reads one number and one unit into milliseconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('14d')).toBe(1_209_600_000);
    expect(parseDuration('2w')).toBe(1_209_600_000);
    expect(parseDuration('1.5s')).toBe(1_500);
    expect(parseDuration(' 0s ')).toBe(0);
  });

  it('refuses bare numbers, unknown units, compound and negative values', () => {
    for (const bad of ['', '30', '10x', '1h30m', '-1s', 's', '1 d', '1e3s', '99999999999999999w']) {
      expect(() => parseDuration(bad), bad).toThrow(ConfigError);
    }
    expect(() => parseDuration('30')).toThrow(/invalid duration "30": write a number followed by one unit/);
  });
});

describe('splitListen', () => {
  it('splits IPv4, names and bracketed IPv6', () => {
    expect(splitListen('127.0.0.1:7070')).toEqual({ host: '127.0.0.1', port: 7070 });
    expect(splitListen('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    expect(splitListen('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(splitListen('[::]:1')).toEqual({ host: '::', port: 1 });
    expect(splitListen('alter0.lan:65535')).toEqual({ host: 'alter0.lan', port: 65535 });
  });

  it('refuses what it cannot split, saying why', () => {
    const cases: [string, RegExp][] = [
      ['127.0.0.1', /missing ":port"/],
      ['::1:7070', /IPv6 addresses must be in brackets/],
      ['[::1]7070', /missing ":port" after "]"/],
      ['[::1:7070', /missing "]"/],
      ['[1.2.3.4]:1', /is not an IPv6 address/],
      [':7070', /missing host/],
      ['host:port', /port "port" is not a number/],
      ['host:65536', /port 65536 is above 65535/],
      ['bad_host:1', /is not an IP address or host name/],
    ];
    for (const [input, why] of cases) expect(() => splitListen(input), input).toThrow(why);
  });
});

describe('isLoopbackHost', () => {
  it('knows the loopback names and ranges', () => {
    for (const h of [
      'localhost',
      'LOCALHOST',
      'a.localhost',
      '127.0.0.1',
      '127.255.0.9',
      '::1',
      '[::1]',
      '::ffff:127.0.0.1',
    ]) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '128.0.0.1',
      'example.com',
      '::ffff:10.0.0.1',
      'localhost.example.com',
    ]) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });
});

describe('allowedHosts', () => {
  it('adds the listen host, the public URL host and the extra names to the loopback names', () => {
    expect(
      allowedHosts({ listen: '[FD00::1]:80', public_url: 'https://Alter0.Example.net/x', allowed_hosts: ['box.lan.'] }),
    ).toEqual(['localhost', '127.0.0.1', '[::1]', '[fd00::1]', 'alter0.example.net', 'box.lan']);
  });
});

describe('report', () => {
  it('redacts secret-looking env values, URL passwords and secret flag values', () => {
    expect(redactValue('executor.env.ANTHROPIC_API_KEY', 'sk-1')).toBe('<redacted>');
    expect(redactValue('executor.env.ANTHROPIC_AUTH_TOKEN', 'x')).toBe('<redacted>');
    expect(redactValue('executor.env.ANTHROPIC_BASE_URL', 'http://127.0.0.1:9/')).toBe('http://127.0.0.1:9/');
    expect(redactValue('public_url', 'https://me:pw@host/')).toBe('https://me:redacted@host/');
    expect(redactValue('executor.command.argv', ['prog', '--api-key', 'k', '--token=t', '--model', 'm'])).toEqual([
      'prog',
      '--api-key',
      '<redacted>',
      '--token=<redacted>',
      '--model',
      'm',
    ]);
  });

  it('prints every key with its value and source, never a secret', () => {
    const loaded = loadConfig({
      file: null,
      cwd: '/',
      env: { HOME: '/h', ALTER0_EXECUTOR__ENV__OPENAI_API_KEY: 'sk-very-secret', ALTER0_QUEUE__MAX_ATTEMPTS: '4' },
      flags: { listen: '127.0.0.1:0' },
    });
    const text = formatConfigReport(loaded);
    expect(text).not.toContain('sk-very-secret');
    const lines = text.split('\n');
    expect(lines[0]).toBe('config file: (none)');
    expect(lines[1]).toMatch(/^KEY\s+VALUE\s+SOURCE$/);
    expect(lines).toContainEqual(expect.stringMatching(/^listen\s+"127\.0\.0\.1:0"\s+flag \(--listen\)$/));
    expect(lines).toContainEqual(
      expect.stringMatching(/^queue\.max_attempts\s+4\s+env \(ALTER0_QUEUE__MAX_ATTEMPTS\)$/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^executor\.env\.OPENAI_API_KEY\s+"<redacted>"\s+env/));
    expect(lines).toContainEqual(
      expect.stringMatching(/^router\.executor\s+"claude"\s+default \(empty: executor\.default\)$/),
    );
    expect(lines.filter((l) => l !== '').length).toBe(2 + Object.keys(loaded.sources).length);
  });
});

describe('envNameFor', () => {
  it('names the variable for a key', () => {
    expect(envNameFor('queue.interactive_workers')).toBe('ALTER0_QUEUE__INTERACTIVE_WORKERS');
    expect(envNameFor('executor.default')).toBe('ALTER0_EXECUTOR');
    expect(envNameFor('data_dir')).toBe('ALTER0_DATA_DIR');
  });
});
