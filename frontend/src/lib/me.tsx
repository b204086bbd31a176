"use client";

import { createContext, useContext } from "react";

import type { components } from "@/api/schema";

export type Me = components["schemas"]["MePublic"];

export const MeContext = createContext<{ me: Me | undefined; refreshMe: () => void }>({
  me: undefined,
  refreshMe: () => undefined,
});

/** The signed-in user (plan limits, credits) loaded by the studio shell. */
export function useMe() {
  return useContext(MeContext);
}
