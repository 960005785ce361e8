import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Alter0Error, DAEMON_NODE_FLAGS } from '@alter0/core';
import { loadConfig } from '@alter0/config';
import { SYSTEM_DATA_DIR } from '../descriptors/service.js';
import type { ServiceInstallArgs } from '../descriptors/service.js';

/** `alter0 service install` could not do what was asked; the message says what to change. */
export class ServiceInstallError extends Alter0Error {
  constructor(message: string) {
    super('service_install', message);
  }
}

export type ServiceMode = 'system' | 'user';

/** The unit templates (deploy/systemd in the checkout) and the CLI entry the units run, resolved from this module. */
export const TEMPLATE_DIR = fileURLToPath(new URL('../../../../deploy/systemd/', import.meta.url));
export const CLI_ENTRY = fileURLToPath(new URL('../../bin/alter0.js', import.meta.url));

const SYSTEM_UNIT_FILE = '/etc/systemd/system/alter0.service';
const SYSUSERS_FILE = '/etc/sysusers.d/alter0.conf';
const SYSTEM_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
/** TimeoutStopSec = drain + kill grace + this, for the checkpoint and closing the database. */
const STOP_MARGIN_S = 15;
/** What ProtectHome=yes hides from the system unit. */
const HIDDEN_BY_PROTECT_HOME = ['/home', '/root', '/run/user'];

export interface UnitInputs {
  mode: ServiceMode;
  /** Absolute path of the Node binary. */
  node: string;
  /** Absolute path of apps/cli/bin/alter0.js. */
  cli: string;
  /** Data directory; required for the system unit, optional (the config's default) for the user unit. */
  dataDir: string | null;
  configFile: string | null;
  /** PATH for the service, already ordered. */
  pathDirs: string[];
  timeoutStopS: number;
}

/** systemd expands %specifiers in unit values; a literal % is written %%. */
function escapeSpecifiers(s: string): string {
  return s.replace(/%/g, '%%');
}

/** One ExecStart= argument: specifiers and $VARIABLES escaped, quoted when it holds anything but plain path characters. */
export function execArg(arg: string): string {
  const escaped = escapeSpecifiers(arg).replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function checkPath(what: string, p: string, strict: boolean): void {
  if (!path.isAbsolute(p)) throw new ServiceInstallError(`${what} must be an absolute path, got "${p}"`);
  // Newlines would end the unit line; in list-valued settings whitespace and quotes would split or unquote it.
  const bad = strict ? /[\s"'\\]/ : /[\n\r]/;
  if (bad.test(p)) {
    throw new ServiceInstallError(
      `${what} "${p}" contains ${strict ? 'whitespace, a quote or a backslash' : 'a line break'}, which a unit file cannot hold here; choose a simpler path`,
    );
  }
}

/** Fills a unit template's @FIELDS@. Every field must be used and known, so a template and this code cannot drift apart silently. */
export function renderUnit(template: string, u: UnitInputs): string {
  checkPath('the Node binary', u.node, false);
  checkPath('the alter0 CLI', u.cli, false);
  if (u.configFile !== null) checkPath('the config file', u.configFile, false);
  if (u.dataDir !== null) checkPath('the data directory', u.dataDir, u.mode === 'system');
  if (u.mode === 'system' && u.dataDir === null)
    throw new ServiceInstallError('the system unit needs a data directory');
  for (const d of u.pathDirs) checkPath('a PATH entry', d, false);
  // The daemon's V8 flags on its own command line: the agents it starts do not inherit them.
  const argv = [u.node, ...DAEMON_NODE_FLAGS, u.cli, 'serve'];
  if (u.dataDir !== null) argv.push('--data-dir', u.dataDir);
  if (u.configFile !== null) argv.push('--config', u.configFile);
  const pathValue = escapeSpecifiers(u.pathDirs.join(':')).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const fields: Record<string, string> = {
    EXEC_START: argv.map(execArg).join(' '),
    PATH: pathValue,
    TIMEOUT_STOP_S: String(u.timeoutStopS),
    DATA_DIR: u.dataDir === null ? '' : escapeSpecifiers(u.dataDir),
  };
  const used = new Set<string>();
  const out = template.replace(/@([A-Z_]+)@/g, (whole, name: string) => {
    const v = fields[name];
    if (v === undefined)
      throw new ServiceInstallError(
        `the unit template has an unknown field ${whole}; the template and this alter0 version do not match`,
      );
    used.add(name);
    return v;
  });
  if (u.mode === 'system' && !used.has('DATA_DIR')) {
    throw new ServiceInstallError(
      'the system unit template does not use @DATA_DIR@ (ReadWritePaths=); the template and this alter0 version do not match',
    );
  }
  return out;
}

export function templateFile(mode: ServiceMode, dir = TEMPLATE_DIR): string {
  return path.join(dir, mode === 'system' ? 'alter0.service' : 'alter0-user.service');
}

export function readTemplate(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ServiceInstallError(
      `cannot read the unit template ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}); ` +
        'service install works from an alter0 checkout, which has deploy/systemd/',
    );
  }
}

/** PATH for the unit: the running Node's folder first (agent CLIs are `#!/usr/bin/env node` scripts), then `rest`, without repeats. */
export function servicePath(node: string, rest: readonly string[]): string[] {
  const dirs = [path.dirname(node), ...rest].filter((d) => path.isAbsolute(d) && !/[\n\r]/.test(d));
  return [...new Set(dirs)];
}

/** Files under /home, /root or /run/user are invisible to the system unit (ProtectHome=yes). */
export function hiddenFromSystemUnit(p: string): boolean {
  return HIDDEN_BY_PROTECT_HOME.some((h) => p === h || p.startsWith(`${h}/`));
}

/** Reads the configuration the service will see (the file, not this shell's ALTER0_* variables) for the stop timeout. */
function stopTimeoutS(dataDir: string | null, configFile: string | null): number {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ALTER0_')));
  const { config } = loadConfig({
    file: configFile ?? undefined,
    env,
    flags: dataDir === null ? {} : { data_dir: dataDir },
    cwd: process.cwd(),
  });
  return config.shutdown.drain_timeout_s + Math.ceil(config.executor.kill_grace_ms / 1000) + STOP_MARGIN_S;
}

export function userUnitFile(env: NodeJS.ProcessEnv = process.env): string {
  const configHome =
    env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME)
      ? env.XDG_CONFIG_HOME
      : path.join(os.homedir(), '.config');
  return path.join(configHome, 'systemd', 'user', 'alter0.service');
}

const say = (s: string): void => {
  process.stdout.write(`${s}\n`);
};
const warn = (s: string): void => {
  process.stderr.write(`alter0: warning: ${s}\n`);
};

/** `alter0 service install`: the unit written (or printed with --dry-run), and the commands to enable it. */
export function install(args: ServiceInstallArgs): void {
  const mode: ServiceMode = args.user ? 'user' : 'system';
  const dataDir = args.data !== undefined ? path.resolve(args.data) : mode === 'system' ? SYSTEM_DATA_DIR : null;
  const configFile = args.config !== undefined ? path.resolve(args.config) : null;
  const node = process.execPath;
  const cli = CLI_ENTRY;
  const inputs: UnitInputs = {
    mode,
    node,
    cli,
    dataDir,
    configFile,
    pathDirs: servicePath(node, mode === 'system' ? SYSTEM_PATH : (process.env.PATH ?? '').split(':')),
    timeoutStopS: stopTimeoutS(dataDir, configFile),
  };
  const unit = renderUnit(readTemplate(templateFile(mode)), inputs);
  const dryRun = args['dry-run'] === true;

  if (mode === 'system') {
    const hidden = [node, cli, ...(configFile ? [configFile] : [])].filter(hiddenFromSystemUnit);
    if (hidden.length > 0) {
      const msg =
        `the system unit cannot see ${hidden.join(', ')} (ProtectHome=yes hides /home, /root and /run/user); ` +
        'put the alter0 checkout (and its .tools/node) and the config under /opt or /srv, readable by the alter0 user, ' +
        'or install the user unit instead: alter0 service install --user';
      if (!dryRun) throw new ServiceInstallError(msg);
      warn(msg);
    }
  }
  if (dryRun) {
    process.stdout.write(unit);
    return;
  }

  if (mode === 'system') {
    if (process.getuid?.() !== 0) {
      throw new ServiceInstallError(
        `writing ${SYSTEM_UNIT_FILE} needs root: run sudo ${node} ${cli} service install (or add --user for a user service)`,
      );
    }
    fs.mkdirSync(path.dirname(SYSUSERS_FILE), { recursive: true });
    fs.writeFileSync(SYSUSERS_FILE, readTemplate(path.join(TEMPLATE_DIR, 'alter0.sysusers')), { mode: 0o644 });
    fs.writeFileSync(SYSTEM_UNIT_FILE, unit, { mode: 0o644 });
    say(`wrote ${SYSUSERS_FILE} (declares the system user alter0, home ${SYSTEM_DATA_DIR})`);
    say(`wrote ${SYSTEM_UNIT_FILE} (node ${node}, data ${dataDir ?? ''}${configFile ? `, config ${configFile}` : ''})`);
    say('next:');
    say(`  systemd-sysusers ${SYSUSERS_FILE}`);
    if (dataDir !== SYSTEM_DATA_DIR) say(`  install -d -o alter0 -g alter0 -m 0700 ${dataDir ?? ''}`);
    say('  systemctl daemon-reload && systemctl enable --now alter0');
    say('  sudo -u alter0 -H claude    # log the agent CLI in as the service user (or codex login)');
    say('  systemctl status alter0; journalctl -u alter0 -f');
    return;
  }

  const file = userUnitFile();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, unit, { mode: 0o644 });
  if (dataDir !== null) fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  say(`wrote ${file} (node ${node}${dataDir ? `, data ${dataDir}` : ''}${configFile ? `, config ${configFile}` : ''})`);
  say('next:');
  say('  systemctl --user daemon-reload && systemctl --user enable --now alter0');
  say('  loginctl enable-linger "$USER"    # keep it running while you are logged out');
  say('  systemctl --user status alter0; journalctl --user -u alter0 -f');
}
