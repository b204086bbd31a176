/**
 * Cookie sessions for a gateway that only speaks bearer tokens.
 *
 * The web app is written to the browser contract: `POST /v1/auth/session` sets HttpOnly cookies,
 * state-changing requests carry `X-CSRF-Token` equal to the `neura_csrf` cookie, and no token ever
 * reaches page JavaScript. Gateways that implement that themselves are passed through untouched; for
 * older ones this module implements the same contract in front of them: the session routes trade
 * the cookies for the gateway's token routes (`/v1/auth/login`, `/refresh`, `/logout`), and every
 * other API request authenticated by cookie gets `Authorization: Bearer <neura_access>` after its
 * CSRF token is checked.
 */
import { NextResponse, type NextRequest } from "next/server";

import { apiBaseUrl } from "./gateway";

export const ACCESS_COOKIE = "neura_access";
export const REFRESH_COOKIE = "neura_refresh";
export const CSRF_COOKIE = "neura_csrf";
const REFRESH_TTL_S = 30 * 86_400; // the gateway's default REFRESH_TOKEN_TTL_S
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const PROBE_TTL_MS = 60_000;

let probe: { native: boolean; at: number } | null = null;

/**
 * Does the gateway set cookie sessions itself? Asked from its OpenAPI document, cached a minute;
 * null while the gateway cannot be reached (asked again on the next request).
 */
export async function gatewayHasCookieSessions(): Promise<boolean | null> {
  const forced = process.env.NEURA_SESSION_BRIDGE;
  if (forced === "on") return false;
  if (forced === "off") return true;
  if (probe && Date.now() - probe.at < PROBE_TTL_MS) return probe.native;
  try {
    const answer = await fetch(`${apiBaseUrl()}/openapi.json`, {
      cache: "no-store",
      signal: AbortSignal.timeout(5000),
    });
    const doc = (await answer.json()) as { paths?: Record<string, unknown> };
    probe = { native: Boolean(doc.paths?.["/v1/auth/session"]), at: Date.now() };
    return probe.native;
  } catch {
    return null;
  }
}

/** What the browser gets while the gateway is down: the API's error shape, not a bare 500 page. */
export function gatewayUnreachable(): NextResponse {
  return errorResponse(
    503,
    "api_unreachable",
    "NEURA's API cannot be reached right now.",
    "It may be restarting: try again in a moment. If it lasts, check that the gateway (neura serve) is running.",
  );
}

type TokenAnswer = { access_token: string; refresh_token: string; expires_in: number; user?: unknown };

function errorResponse(status: number, code: string, message: string, hint: string | null): NextResponse {
  return NextResponse.json({ error: { code, message, hint }, request_id: null }, { status });
}

function setSessionCookies(response: NextResponse, tokens: TokenAnswer): void {
  const common = { httpOnly: true, secure: true, path: "/" } as const;
  response.cookies.set(ACCESS_COOKIE, tokens.access_token, { ...common, sameSite: "lax", maxAge: tokens.expires_in });
  response.cookies.set(REFRESH_COOKIE, tokens.refresh_token, {
    ...common,
    sameSite: "strict",
    path: "/v1/auth",
    maxAge: REFRESH_TTL_S,
  });
  const csrf = crypto.randomUUID().replaceAll("-", "") + crypto.randomUUID().replaceAll("-", "");
  response.cookies.set(CSRF_COOKIE, csrf, {
    secure: true,
    httpOnly: false,
    sameSite: "strict",
    path: "/",
    maxAge: REFRESH_TTL_S,
  });
}

function clearSessionCookies(response: NextResponse): void {
  for (const [name, path] of [
    [ACCESS_COOKIE, "/"],
    [REFRESH_COOKIE, "/v1/auth"],
    [CSRF_COOKIE, "/"],
  ] as const) {
    response.cookies.set(name, "", { path, maxAge: 0, secure: true });
  }
}

async function gatewayPost(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${apiBaseUrl()}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    cache: "no-store",
  });
}

/** The gateway's answer, passed on as it is (status, JSON error body, Retry-After). */
async function passOn(answer: Response): Promise<NextResponse> {
  const headers = new Headers({ "content-type": answer.headers.get("content-type") ?? "application/json" });
  const retryAfter = answer.headers.get("retry-after");
  if (retryAfter) headers.set("retry-after", retryAfter);
  return new NextResponse(await answer.text(), { status: answer.status, headers });
}

async function login(request: NextRequest): Promise<NextResponse> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return errorResponse(400, "invalid_json", "the request body is not valid JSON", "send a JSON object");
  }
  const answer = await gatewayPost("/v1/auth/login", body);
  if (!answer.ok) return passOn(answer);
  const tokens = (await answer.json()) as TokenAnswer;
  const response = NextResponse.json(tokens.user, { status: 200 });
  setSessionCookies(response, tokens);
  return response;
}

async function refresh(request: NextRequest): Promise<NextResponse> {
  const token = request.cookies.get(REFRESH_COOKIE)?.value;
  if (!token) return errorResponse(401, "auth", "the session has ended", "log in again");
  const answer = await gatewayPost("/v1/auth/refresh", { refresh_token: token });
  if (!answer.ok) {
    const response = await passOn(answer);
    if (answer.status === 401) clearSessionCookies(response);
    return response;
  }
  const response = new NextResponse(null, { status: 204 });
  setSessionCookies(response, (await answer.json()) as TokenAnswer);
  return response;
}

async function logout(request: NextRequest): Promise<NextResponse> {
  const token = request.cookies.get(REFRESH_COOKIE)?.value;
  const access = request.cookies.get(ACCESS_COOKIE)?.value;
  if (token) {
    const headers: Record<string, string> = access ? { authorization: `Bearer ${access}` } : {};
    const answer = await gatewayPost("/v1/auth/logout", { refresh_token: token }, headers);
    if (!answer.ok && answer.status !== 401) return passOn(answer);
  }
  const response = new NextResponse(null, { status: 204 });
  clearSessionCookies(response);
  return response;
}

function csrfRefused(): NextResponse {
  return errorResponse(403, "csrf", "the request's CSRF token is missing or wrong", "reload the page and try again");
}

function csrfOk(request: NextRequest): boolean {
  const cookie = request.cookies.get(CSRF_COOKIE)?.value;
  const header = request.headers.get("x-csrf-token");
  return Boolean(cookie) && cookie === header;
}

/**
 * Handle a `/v1/...` request for a gateway without cookie sessions: a response to send (the session
 * routes, or a refused request), or the headers to forward the request with.
 */
export async function bridgeRequest(request: NextRequest): Promise<NextResponse | Headers> {
  const { pathname } = request.nextUrl;
  const method = request.method.toUpperCase();
  if (pathname === "/v1/auth/session/refresh") {
    if (method !== "POST") return errorResponse(405, "method_not_allowed", "Method Not Allowed", null);
    if (!csrfOk(request)) return csrfRefused();
    return refresh(request);
  }
  if (pathname === "/v1/auth/session") {
    if (method === "POST") return login(request);
    if (method !== "DELETE") return errorResponse(405, "method_not_allowed", "Method Not Allowed", null);
    if (!csrfOk(request)) return csrfRefused();
    return logout(request);
  }
  const headers = new Headers(request.headers);
  const access = request.cookies.get(ACCESS_COOKIE)?.value;
  const explicit = headers.has("authorization") || headers.has("x-api-key");
  if (access && !explicit) {
    if (UNSAFE.has(method) && !csrfOk(request)) {
      return csrfRefused();
    }
    headers.set("authorization", `Bearer ${access}`);
  }
  headers.delete("cookie"); // the gateway authenticates by the header; cookies stay in the browser
  return headers;
}
