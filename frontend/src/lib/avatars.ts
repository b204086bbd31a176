import type { components } from "@/api/schema";

/** An avatar as the typed client returns it (its response types widen the outline's [x, y] pairs). */
export type Avatar = Omit<components["schemas"]["AvatarPublic"], "face_outline"> & { face_outline: number[][] | null };
