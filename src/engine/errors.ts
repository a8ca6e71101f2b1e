/** A request the engine cannot serve as given (bad field, prompt too long, image mismatch).
 *  The server turns it into a 400 with an OpenAI-style error object. */
export class InvalidRequestError extends Error {
  constructor(
    message: string,
    /** The offending field, in the library's camelCase naming, when there is one. */
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

/** The engine was closed, or a request was aborted while a caller waited on it. */
export class EngineClosedError extends Error {
  constructor(message = 'the engine is closed') {
    super(message);
    this.name = 'EngineClosedError';
  }
}
