import type { Metadata } from "next";

import { Voices } from "@/components/Voices";

export const metadata: Metadata = { title: "Voices" };

export default function VoicesPage() {
  return <Voices />;
}
