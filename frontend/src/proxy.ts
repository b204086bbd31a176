/**
 * The one origin the browser talks to: API paths are forwarded to the gateway (NEURA_API_URL, read
 * at run time, so one build serves every deployment); pages are served by Next.js. The gateway
 * keeps the browser session in its own cookies (POST /v1/auth/session; see docs/web.md).
 */
import { NextResponse, type NextRequest } from "next/server";

import { apiBaseUrl, gatewayReachable, gatewayUnreachable } from "./server/gateway";

const API_PREFIXES = ["/v1/", "/docs", "/redoc", "/openapi.json", "/healthz", "/readyz"];

export async function proxy(request: NextRequest): Promise<NextResponse> {
  const { pathname, search } = request.nextUrl;
  if (!API_PREFIXES.some((prefix) => pathname.startsWith(prefix))) {
    // A studio page: tell its layout where the visitor was going (for the login redirect).
    const headers = new Headers(request.headers);
    headers.set("x-neura-path", pathname + search);
    return NextResponse.next({ request: { headers } });
  }
  if (!(await gatewayReachable())) return gatewayUnreachable();
  return NextResponse.rewrite(new URL(pathname + search, apiBaseUrl()));
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
