/**
 * The proxy to the gateway goes through Node's global HTTP agent, whose kept-alive connections idle
 * out after 5 s: exactly when the gateway (uvicorn) closes its idle ones, so a request sent at that
 * moment failed with "socket hang up" (a 500). Forwarded requests use a connection each instead
 * (cheap on loopback or a container network).
 */
import http from "node:http";
import https from "node:https";

http.globalAgent = new http.Agent({ keepAlive: false });
https.globalAgent = new https.Agent({ keepAlive: false });

/**
 * An API path is forwarded by src/proxy.ts as an external rewrite, and Next.js then answers the
 * browser with an `x-middleware-rewrite` header naming the gateway's internal address (NEURA_API_URL).
 * Nothing in the browser reads it for such a rewrite (it is for rewrites between pages), so a header of
 * that name holding an absolute URL is never sent.
 */
const setHeader = http.ServerResponse.prototype.setHeader;
http.ServerResponse.prototype.setHeader = function setHeaderUnlessInternal(name, value) {
  if (name.toLowerCase() === "x-middleware-rewrite" && /^[a-z][a-z0-9+.-]*:\/\//i.test(String(value))) return this;
  return setHeader.call(this, name, value);
};
