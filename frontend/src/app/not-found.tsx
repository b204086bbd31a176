import Link from "next/link";

export default function NotFound() {
  return (
    <main className="auth-wrap">
      <div className="card auth-card" style={{ textAlign: "center" }}>
        <h1>Page not found</h1>
        <p className="muted">There is nothing at this address.</p>
        <Link className="btn btn-primary" href="/dashboard">
          Go to your dashboard
        </Link>
      </div>
    </main>
  );
}
