/** The gateway, as the web server sees it. NEURA_API_URL is read at run time, never at build time. */
import { NextResponse } from "next/server";

const HEALTHY_FOR_MS = 5_000;
let healthyAt = 0;

export function apiBaseUrl(): string {
  return (process.env.NEURA_API_URL || "http://127.0.0.1:8000").replace(/\/+$/, "");
}

/**
 * Can the gateway be reached? Asked (GET /healthz, 3 s at most) at most once every 5 s while it
 * answers, on every request while it does not.
 */
export async function gatewayReachable(): Promise<boolean> {
  if (Date.now() - healthyAt < HEALTHY_FOR_MS) return true;
  try {
    const answer = await fetch(`${apiBaseUrl()}/healthz`, { cache: "no-store", signal: AbortSignal.timeout(3000) });
    if (answer.status >= 500) return false;
    healthyAt = Date.now();
    return true;
  } catch {
    return false;
  }
}

/** What the browser gets while the gateway is down: the API's error shape, not a bare 500 page. */
export function gatewayUnreachable(): NextResponse {
  return NextResponse.json(
    {
      error: {
        code: "api_unreachable",
        message: "NEURA's API cannot be reached right now.",
        hint: "It may be restarting: try again in a moment. If it lasts, check that the gateway (neura serve) is running.",
      },
      request_id: null,
    },
    { status: 503 },
  );
}
