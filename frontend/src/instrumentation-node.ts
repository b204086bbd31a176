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
