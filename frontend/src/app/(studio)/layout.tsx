import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";

import { StudioShell } from "@/components/StudioShell";

/** Pages behind a session: without its cookies, straight to the login page (no flash of the studio). */
export default async function StudioLayout({ children }: { children: ReactNode }) {
  const jar = await cookies();
  if (!jar.has("neura_csrf") && !jar.has("neura_access")) {
    const path = (await headers()).get("x-neura-path") ?? "/dashboard";
    redirect(`/login?next=${encodeURIComponent(path)}`);
  }
  return <StudioShell>{children}</StudioShell>;
}
