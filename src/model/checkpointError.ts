/** A checkpoint that cannot be used as it is on disk: the message names the file, the tensor
 *  or the config field at fault, in one line fit to show a user. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}
