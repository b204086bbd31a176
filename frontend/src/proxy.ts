/**
 * The one origin the browser talks to: API paths are forwarded to the gateway (NEURA_API_URL, read
 * at run time, so one build serves every deployment); pages are served by Next.js.
 *
 * Browser auth is the gateway's cookie session (`POST /v1/auth/session`, see docs/web.md).
 * A gateway that predates cookie sessions is bridged here with exactly the same contract (see
 * ./server/session-bridge.ts): the pages cannot tell the difference, and the bridge switches itself
 * off as soon as the gateway's OpenAPI document lists `/v1/auth/session`.
 */
import { NextResponse, type NextRequest } from "next/server";

import { apiBaseUrl } from "./server/gateway";
import { bridgeRequest, gatewayHasCookieSessions, gatewayUnreachable } from "./server/session-bridge";

const API_PREFIXES = ["/v1/", "/docs", "/redoc", "/openapi.json", "/healthz", "/readyz"];

export async function proxy(request: NextRequest): Promise<NextResponse> {
  const { pathname, search } = request.nextUrl;
  if (!API_PREFIXES.some((prefix) => pathname.startsWith(prefix))) {
    // A studio page: tell its layout where the visitor was going (for the login redirect).
    const headers = new Headers(request.headers);
    headers.set("x-neura-path", pathname + search);
    return NextResponse.next({ request: { headers } });
  }
  const target = new URL(pathname + search, apiBaseUrl());
  const native = await gatewayHasCookieSessions();
  if (native === null) return gatewayUnreachable();
  if (pathname.startsWith("/v1/") && !native) {
    const bridged = await bridgeRequest(request);
    if (bridged instanceof NextResponse) return bridged;
    return NextResponse.rewrite(target, { request: { headers: bridged } });
  }
  return NextResponse.rewrite(target);
}

export const config = {
  matcher: [
    "/v1/:path*",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/healthz",
    "/readyz",
    "/dashboard",
    "/videos/:path*",
    "/avatars",
    "/voices",
    "/live",
    "/settings",
    "/usage",
  ],
};
