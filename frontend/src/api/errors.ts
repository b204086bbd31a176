/** Every failure the pages show: the gateway's error body ({error: {code, message, hint}}) or a
 * network failure, as one type with a message written for people. */

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly hint: string | null;
  readonly requestId: string | null;
  readonly retryAfterS: number | null;

  constructor(
    status: number,
    code: string,
    message: string,
    hint: string | null = null,
    requestId: string | null = null,
    retryAfterS: number | null = null,
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.hint = hint;
    this.requestId = requestId;
    this.retryAfterS = retryAfterS;
  }

  get offline(): boolean {
    return this.status === 0;
  }

  static offlineError(): ApiError {
    const online = typeof navigator === "undefined" || navigator.onLine;
    return new ApiError(
      0,
      "offline",
      online ? "NEURA cannot be reached right now." : "You are offline.",
      online ? "Check that the server is running, then try again." : "Reconnect to the internet and try again.",
    );
  }

  /** From a gateway answer: its JSON error body when it has one, else a message from the status. */
  static fromResponse(response: Response, body: unknown): ApiError {
    const retry = Number(response.headers.get("retry-after"));
    const retryAfterS = Number.isFinite(retry) && retry > 0 ? retry : null;
    if (isErrorBody(body)) {
      const { code, message, hint } = body.error;
      return new ApiError(response.status, code, message, hint ?? null, body.request_id ?? null, retryAfterS);
    }
    return new ApiError(
      response.status,
      "http_error",
      STATUS_MESSAGES[response.status] ?? `The server answered ${response.status}.`,
      null,
      null,
      retryAfterS,
    );
  }
}

const STATUS_MESSAGES: Record<number, string> = {
  401: "Your session has ended.",
  403: "You are not allowed to do that.",
  404: "Not found.",
  413: "That file is too large.",
  429: "Too many requests.",
  500: "The server ran into a problem.",
  502: "NEURA's API cannot be reached.",
  503: "The service is unavailable right now.",
  504: "The server took too long to answer.",
};

type ErrorBody = { error: { code: string; message: string; hint?: string | null }; request_id?: string | null };

export function isErrorBody(body: unknown): body is ErrorBody {
  if (typeof body !== "object" || body === null || !("error" in body)) return false;
  const error = (body as { error: unknown }).error;
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { code?: unknown }).code === "string" &&
    typeof (error as { message?: unknown }).message === "string"
  );
}

export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof TypeError) return ApiError.offlineError(); // fetch's network failure
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError(-1, "client", message);
}
