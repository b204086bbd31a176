"use client";

/**
 * Optional gateway features, read from its OpenAPI document (fetched once per page load): the web
 * app uses a route as soon as the gateway lists it and falls back to older routes until then.
 */
type OpenApi = {
  paths?: Record<string, unknown>;
  components?: { schemas?: Record<string, { properties?: Record<string, unknown> }> };
};

let document: Promise<OpenApi> | null = null;

function openApi(): Promise<OpenApi> {
  document ??= fetch("/openapi.json", { credentials: "same-origin" })
    .then((answer) => (answer.ok ? (answer.json() as Promise<OpenApi>) : {}))
    .catch(() => {
      document = null; // offline: ask again next time
      return {};
    });
  return document;
}

/** Does the gateway serve this path (as written in its OpenAPI document, e.g. "/v1/videos/{video_id}")? */
export async function gatewayHas(path: string): Promise<boolean> {
  return Boolean((await openApi()).paths?.[path]);
}

/** Does one of the gateway's schemas have this property? */
export async function gatewaySchemaHas(schema: string, property: string): Promise<boolean> {
  return Boolean((await openApi()).components?.schemas?.[schema]?.properties?.[property]);
}
