"use client";

/**
 * Optional gateway features, read from its OpenAPI document (fetched once per page load): the web
 * app uses a route as soon as the gateway lists it and falls back to older routes until then.
 */
let paths: Promise<Set<string>> | null = null;

export function gatewayPaths(): Promise<Set<string>> {
  paths ??= fetch("/openapi.json", { credentials: "same-origin" })
    .then((answer) => (answer.ok ? (answer.json() as Promise<{ paths?: Record<string, unknown> }>) : { paths: {} }))
    .then((doc) => new Set(Object.keys(doc.paths ?? {})))
    .catch(() => {
      paths = null; // offline: ask again next time
      return new Set<string>();
    });
  return paths;
}

export async function gatewayHas(path: string): Promise<boolean> {
  return (await gatewayPaths()).has(path);
}
