import { HttpError } from "../errors.ts";

/** OpenAI's error body: what its clients parse into APIError (message, type, param, code). */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** A 400 that names the request field at fault, which OpenAI reports as `param`. */
export class InvalidParamError extends HttpError {
  constructor(
    message: string,
    readonly param: string | null,
  ) {
    super(400, "invalid_value", message);
  }
}

export const invalidParam = (param: string, message: string) => new InvalidParamError(message, param);

/** OpenAI's type for a status: the client's mistake, or the server's. */
function errorType(status: number): string {
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}

/** The body for a gateway error under /v1 (the app's onError uses it for every such path). */
export function openAiErrorBody(error: HttpError): OpenAiErrorBody {
  return {
    error: {
      message: error.message,
      type: errorType(error.status),
      param: error instanceof InvalidParamError ? error.param : null,
      code: error.code,
    },
  };
}
