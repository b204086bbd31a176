"use client";

import { useEffect, useRef, useState } from "react";

/** The rendered width of an element (ResizeObserver), so a chart can lay itself out at real pixels. */
export function useWidth<T extends HTMLElement>(fallbackPx: number) {
  const ref = useRef<T | null>(null);
  const [width, setWidth] = useState(fallbackPx);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setWidth(Math.max(260, Math.round(entry.contentRect.width)));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width] as const;
}
