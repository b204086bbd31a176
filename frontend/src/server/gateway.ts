/** Where the gateway is, for server-side code (the proxy). Read at run time, never at build time. */
export function apiBaseUrl(): string {
  return (process.env.NEURA_API_URL || "http://127.0.0.1:8000").replace(/\/+$/, "");
}
