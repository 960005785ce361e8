import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import * as v from 'valibot';
import { createApiClient } from '@alter0/api';
import type { Approval } from '@alter0/api';
import { errorMessage } from '@alter0/core';

/**
 * `alter0 mcp-approvals`: the MCP server (stdio) behind claude's `--permission-prompt-tool mcp__alter0__approve`.
 * claude calls `approve` with the tool it wants to use and its input; the server raises an approval for the run
 * (with the run's own ALTER0_URL, ALTER0_JOB_ID and ALTER0_APPROVAL_TOKEN, which the MCP config the claude executor
 * wrote hands it), waits for the owner's answer and gives claude its decision. Contract verified against the
 * pinned CLI: docs/executors.md.
 */

export const APPROVE_TOOL = 'approve';

/** What claude sends the permission-prompt tool. */
const PromptInput = v.object({
  tool_name: v.string(),
  input: v.optional(v.unknown(), {}),
  tool_use_id: v.optional(v.string()),
});

/** What claude takes back, as the text of the tool's result. */
type PromptAnswer = { behavior: 'allow'; updatedInput: unknown } | { behavior: 'deny'; message: string };

const WAIT_STEP_S = 30;

export async function mcpApprovals(): Promise<void> {
  const env = process.env;
  const url = env.ALTER0_URL ?? '';
  const token = env.ALTER0_APPROVAL_TOKEN ?? '';
  const jobId = env.ALTER0_JOB_ID ?? '';
  const server = new Server({ name: 'alter0', version: '1' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [
      {
        name: APPROVE_TOOL,
        description: "Asks alter0's owner whether a tool use may go ahead (claude's permission prompt).",
        inputSchema: {
          type: 'object' as const,
          properties: { tool_name: { type: 'string' }, input: { type: 'object' }, tool_use_id: { type: 'string' } },
          required: ['tool_name', 'input'],
        },
      },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const answer = await decide({ url, token, jobId }, req.params.name, req.params.arguments, extra.signal);
    return { content: [{ type: 'text' as const, text: JSON.stringify(answer) }] };
  });
  await server.connect(new StdioServerTransport());
}

async function decide(
  run: { url: string; token: string; jobId: string },
  name: string,
  args: unknown,
  signal: AbortSignal,
): Promise<PromptAnswer> {
  if (name !== APPROVE_TOOL) return { behavior: 'deny', message: `alter0 has no tool ${name}` };
  const parsed = v.safeParse(PromptInput, args);
  if (!parsed.success) return { behavior: 'deny', message: 'alter0 could not read the permission request' };
  const { tool_name: tool, input } = parsed.output;
  if (!run.url || !run.token || !run.jobId) {
    return { behavior: 'deny', message: 'this run cannot ask alter0 (no approval token); the tool use is refused' };
  }
  try {
    const api = createApiClient({ baseUrl: run.url, token: run.token });
    const raised = await api.raiseApproval({ job_id: run.jobId, tool, input }, { signal });
    let a: Approval = await api.getApproval(raised.approval_id, {}, { signal });
    while (a.state === 'pending') a = await api.getApproval(a.id, { waitS: WAIT_STEP_S }, { signal });
    if (a.state === 'allowed') return { behavior: 'allow', updatedInput: input };
    const why = a.reason ?? a.state;
    return { behavior: 'deny', message: `The owner did not allow this (${a.state}): ${why}` };
  } catch (err) {
    return { behavior: 'deny', message: `alter0 could not be asked, so the tool use is refused: ${errorMessage(err)}` };
  }
}
