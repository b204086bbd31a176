import next from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

const config = [
  ...next,
  ...nextTs,
  {
    ignores: [
      ".next/**",
      "node_modules/**",
      "out/**",
      "test-results/**",
      "e2e/artifacts/**",
      "next-env.d.ts",
      "src/api/*.d.ts",
    ],
  },
];

export default config;
