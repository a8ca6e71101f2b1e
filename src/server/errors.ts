// OpenAI-style errors: every failure the server answers is
// { error: { message, type, param, code } } with the HTTP status it names.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly type = status === 401 ? 'authentication_error' : status === 404 ? 'not_found_error' : status >= 500 ? 'server_error' : 'invalid_request_error',
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function errorBody(status: number, message: string, type: string, param: string | null): object {
  return { object: 'error', error: { message, type, param, code: status } };
}
