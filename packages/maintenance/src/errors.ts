import { Alter0Error } from '@alter0/core';

/** A backup could not be made, or the copy failed its integrity check (the copy was deleted). */
export class BackupError extends Alter0Error {
  constructor(message: string, options?: ErrorOptions) {
    super('backup_failed', message, options);
  }
}

/** A restore was refused before anything changed (bad file, newer schema, service running). */
export class RestoreError extends Alter0Error {
  constructor(message: string, options?: ErrorOptions) {
    super('restore_refused', message, options);
  }
}
