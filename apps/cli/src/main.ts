import yargs from 'yargs';
import { Alter0Error, errorMessage } from '@alter0/core';
// Only the descriptors (name, help, options) load here; each command's code loads when that command runs.
import { buildInfo } from '@alter0/daemon/version';
import { serveCommand } from './descriptors/serve.js';
import { dbCommand } from './descriptors/db.js';
import { doctorCommand } from './descriptors/doctor.js';
import { serviceCommand } from './descriptors/service.js';
import { healthcheckCommand } from './descriptors/healthcheck.js';
import { clientCommands } from './descriptors/client.js';
import { approvalCommands } from './descriptors/approvals.js';
import { memoryCommands } from './descriptors/memory.js';
import { scheduleCommands } from './descriptors/schedule.js';
import { usageCommands } from './descriptors/usage.js';
import { qualityCommands } from './descriptors/quality.js';
import { logsCommand } from './descriptors/logs.js';
import { diagnoseCommand } from './descriptors/diagnose.js';
import { soakCommand } from './descriptors/soak.js';
import { tokenCommand } from './descriptors/token.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { output } from './output.js';

/**
 * `alter0 … | head`: when the reader goes away, stop quietly with success, as other Unix tools do, instead of
 * an unhandled EPIPE error. Any other stdout error is reported.
 */
function quietOnClosedPipe(stream: NodeJS.WriteStream, exit: (code: number) => never = process.exit): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') exit(0);
    process.stderr.write(`alter0: cannot write the output: ${err.message}\n`);
    exit(EXIT.failure);
  });
}

export async function main(argv: string[]): Promise<void> {
  quietOnClosedPipe(process.stdout);
  const info = buildInfo();
  try {
    await yargs(argv)
      .scriptName('alter0')
      .command(serveCommand as never)
      .command(doctorCommand as never)
      .command(dbCommand)
      .command(serviceCommand)
      .command(healthcheckCommand as never)
      .command(clientCommands)
      .command(approvalCommands)
      .command(memoryCommands)
      .command(scheduleCommands)
      .command(usageCommands)
      .command(qualityCommands)
      .command(logsCommand as never)
      .command(diagnoseCommand as never)
      .command(soakCommand as never)
      .command(tokenCommand)
      .command({
        command: 'version',
        describe: 'print the version, commit, build date and Node version',
        builder: (y) => y.option('json', { type: 'boolean' }),
        handler: (a) => {
          if (a.json) process.stdout.write(`${JSON.stringify(info)}\n`);
          else
            process.stdout.write(
              `alter0 ${info.version} (commit ${info.commit ?? 'unknown'}, built ${info.builtAt ?? 'unknown'}) node ${info.node}\n`,
            );
        },
      })
      .demandCommand(1, 'name a command; see alter0 --help')
      .strict()
      .recommendCommands()
      .version(info.version)
      .help()
      .fail((msg, err) => {
        if (err) throw err;
        output.note(`alter0: ${msg}\nRun alter0 --help for usage.`);
        process.exit(EXIT.usage);
      })
      .parseAsync();
  } catch (err) {
    const prefix = err instanceof Alter0Error ? '' : 'unexpected error: ';
    // API errors can quote what an agent or a client sent.
    output.note(`alter0: ${prefix}${errorMessage(err)}`);
    process.exit(exitCodeFor(err));
  }
}
