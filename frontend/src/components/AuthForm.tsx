"use client";

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense, useState, type FormEvent } from "react";

import { api, call, request } from "@/api/client";
import { asApiError, type ApiError } from "@/api/errors";

import { ErrorNotice } from "./ui";

const PASSWORD_MIN_CHARS = 10;

/** Where to go after logging in: a path of this site only (never another origin). */
function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/dashboard";
}

function Form({ mode }: { mode: "login" | "signup" }) {
  const router = useRouter();
  const params = useSearchParams();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const signup = mode === "signup";

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      if (signup) await call(() => api.POST("/v1/auth/signup", { body: { email, password } }));
      await request("/v1/auth/session", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password }),
      });
      router.replace(safeNext(params.get("next")));
      router.refresh();
    } catch (caught) {
      setError(asApiError(caught));
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} noValidate={false} aria-describedby={error ? "auth-error" : undefined}>
      <h1 style={{ textAlign: "center" }}>{signup ? "Create your account" : "Welcome back"}</h1>
      <p className="muted" style={{ textAlign: "center" }}>
        {signup ? "Free plan: 300 credits to start, no card needed." : "Log in to your NEURA studio."}
      </p>
      {params.get("ended") ? (
        <p className="notice notice-info" role="status">
          Your session has ended. Log in again to continue.
        </p>
      ) : null}
      <div id="auth-error">{error ? <ErrorNotice error={error} /> : null}</div>
      <div className="field">
        <label htmlFor="email">Email</label>
        <input
          id="email"
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="password">Password</label>
        <input
          id="password"
          type="password"
          autoComplete={signup ? "new-password" : "current-password"}
          required
          minLength={signup ? PASSWORD_MIN_CHARS : 1}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          aria-describedby={signup ? "password-help" : undefined}
        />
        {signup ? (
          <span className="help" id="password-help">
            At least {PASSWORD_MIN_CHARS} characters.
          </span>
        ) : null}
      </div>
      <button type="submit" className="btn btn-primary" style={{ width: "100%" }} disabled={busy}>
        {busy ? <span className="spinner" aria-hidden="true" /> : null}
        {signup ? "Create account" : "Log in"}
      </button>
      <p className="small muted" style={{ textAlign: "center", marginTop: "1rem" }}>
        {signup ? (
          <>
            Already have an account? <Link href="/login">Log in</Link>
          </>
        ) : (
          <>
            New to NEURA? <Link href="/signup">Create an account</Link>
          </>
        )}
      </p>
    </form>
  );
}

export function AuthForm({ mode }: { mode: "login" | "signup" }) {
  return (
    <Suspense fallback={null}>
      <Form mode={mode} />
    </Suspense>
  );
}
