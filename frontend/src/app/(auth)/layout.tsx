import Link from "next/link";
import type { ReactNode } from "react";

import { BrandMark } from "@/components/Icon";

export default function AuthLayout({ children }: { children: ReactNode }) {
  return (
    <main className="auth-wrap" id="main">
      <div className="card auth-card">
        <Link href="/" className="brand">
          <BrandMark /> NEURA
        </Link>
        {children}
      </div>
    </main>
  );
}
