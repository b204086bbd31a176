import type { NextConfig } from "next";

// The gateway is reached through src/proxy.ts (read at run time from NEURA_API_URL), so one build
// serves any deployment. Nothing is fetched at build or run time (no web fonts, no telemetry).
const config: NextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  // Progress streams (SSE) pass through the proxy: compression would hold events back.
  compress: false,
  experimental: {
    // Avatar photos go through the proxy; the gateway enforces its own MAX_UPLOAD_BYTES (10 MB).
    proxyClientMaxBodySize: "26mb",
  },
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "same-origin" },
          { key: "X-Frame-Options", value: "DENY" },
          { key: "Permissions-Policy", value: "camera=(), microphone=(self), geolocation=()" },
        ],
      },
    ];
  },
};

export default config;
