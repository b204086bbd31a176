import type { Metadata } from "next";
import { Suspense } from "react";

import { LiveStudio } from "@/components/live/LiveStudio";
import { Loading } from "@/components/ui";

export const metadata: Metadata = { title: "Live studio" };

export default function LivePage() {
  return (
    <Suspense fallback={<Loading label="Loading the live studio" />}>
      <LiveStudio />
    </Suspense>
  );
}
