"use client";

import { useCallback, useEffect, useRef, useState } from "react";

import { asApiError, type ApiError } from "@/api/errors";

export type Loaded<T> = {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
  setData: (value: T | undefined) => void;
};

type Settled<T> = { key: string | null; data: T | undefined; error: ApiError | undefined };

/**
 * Load something (again on reload() or when deps change): its data, error and loading state. The
 * data of the last load stays shown while the next one runs (no flash of an empty page).
 */
export function useApi<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [generation, setGeneration] = useState(0);
  const [settled, setSettled] = useState<Settled<T>>({ key: null, data: undefined, error: undefined });
  const loader = useRef(load);
  useEffect(() => {
    loader.current = load;
  });
  const key = JSON.stringify([generation, ...deps]);

  useEffect(() => {
    let current = true;
    loader
      .current()
      .then((data) => {
        if (current) setSettled({ key, data, error: undefined });
      })
      .catch((caught: unknown) => {
        if (current) setSettled((before) => ({ key, data: before.data, error: asApiError(caught) }));
      });
    return () => {
      current = false;
    };
  }, [key]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const setData = useCallback((data: T | undefined) => setSettled((before) => ({ ...before, data })), []);
  return { data: settled.data, error: settled.error, loading: settled.key !== key, reload, setData };
}
