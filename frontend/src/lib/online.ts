"use client";

import { useEffect, useState } from "react";

import { NETWORK_ERROR_EVENT } from "@/api/client";

const PROBE_MS = 10_000;

async function reachable(): Promise<boolean> {
  try {
    const answer = await fetch("/healthz", { cache: "no-store", credentials: "omit" });
    return answer.status < 500;
  } catch {
    return false;
  }
}

/**
 * Is NEURA reachable? navigator.onLine only says whether a network interface is up (it reads false
 * on a machine whose one interface is loopback, and true behind a dead Wi-Fi), so an "offline"
 * event, or a request that failed at the network level, is confirmed by asking the server, and
 * re-checked every 10 s until it answers again.
 */
export function useOnline(): boolean {
  const [online, setOnline] = useState(true);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let live = true;
    const check = async () => {
      if (timer) clearTimeout(timer);
      const ok = await reachable();
      if (!live) return;
      setOnline(ok);
      if (!ok) timer = setTimeout(() => void check(), PROBE_MS);
    };
    const onChange = () => void check();
    if (!navigator.onLine) void check();
    window.addEventListener("offline", onChange);
    window.addEventListener("online", onChange);
    window.addEventListener(NETWORK_ERROR_EVENT, onChange);
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
      window.removeEventListener("offline", onChange);
      window.removeEventListener("online", onChange);
      window.removeEventListener(NETWORK_ERROR_EVENT, onChange);
    };
  }, []);
  return online;
}
