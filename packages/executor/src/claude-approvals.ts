import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ExecRequest } from '@alter0/core';

/** claude's name for the tool: `mcp__<server>__<tool>`, the server being alter0's own MCP server. */
const PERMISSION_PROMPT_TOOL = 'mcp__alter0__approve';

/** A run's MCP config on disk, and how to remove it. */
export interface ApprovalMcp {
  args: string[];
  remove(): Promise<void>;
}

/**
 * For an execute run that may ask the owner: an MCP config naming alter0's approval server (`alter0
 * mcp-approvals`, started by claude over stdio) with the run's own URL, job and token, written to a fresh private
 * folder (0700; the file 0600: the token must not be on a command line, where `ps` shows it to anyone), and the
 * flags that make claude ask that tool before any tool use its permission mode does not allow already.
 */
export async function approvalMcp(req: ExecRequest): Promise<ApprovalMcp | null> {
  const a = req.approval;
  if (!a || req.stage !== 'execute' || !a.mcpCommand || a.mcpCommand.length === 0) return null;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'alter0-mcp-'));
  const file = path.join(dir, 'mcp.json');
  const [command, ...args] = a.mcpCommand;
  const config = {
    mcpServers: {
      alter0: {
        type: 'stdio',
        command,
        args,
        env: { ALTER0_URL: a.url, ALTER0_APPROVAL_TOKEN: a.token, ALTER0_JOB_ID: req.jobId ?? '' },
      },
    },
  };
  await fs.writeFile(file, JSON.stringify(config), { mode: 0o600 });
  return {
    args: ['--mcp-config', file, '--permission-prompt-tool', PERMISSION_PROMPT_TOOL],
    remove: () => fs.rm(dir, { recursive: true, force: true }),
  };
}
