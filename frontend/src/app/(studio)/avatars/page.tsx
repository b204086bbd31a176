import type { Metadata } from "next";

import { Avatars } from "@/components/avatars/Avatars";

export const metadata: Metadata = { title: "Avatars" };

export default function AvatarsPage() {
  return <Avatars />;
}
