"use client";

import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useCallback, useEffect, useState, type ReactNode } from "react";

import { api, call, request } from "@/api/client";
import { MeContext } from "@/lib/me";
import { useApi } from "@/lib/useApi";
import { formatInt } from "@/lib/format";
import { useOnline } from "@/lib/online";

import { BrandMark, Icon, type IconName } from "./Icon";

const NAV: { href: string; label: string; short: string; icon: IconName; phone: boolean }[] = [
  { href: "/dashboard", label: "Dashboard", short: "Home", icon: "home", phone: true },
  { href: "/videos/new", label: "New video", short: "Create", icon: "plus", phone: true },
  { href: "/avatars", label: "Avatars", short: "Avatars", icon: "face", phone: true },
  { href: "/voices", label: "Voices", short: "Voices", icon: "voice", phone: false },
  { href: "/live", label: "Live studio", short: "Live", icon: "live", phone: true },
  { href: "/usage", label: "Usage", short: "Usage", icon: "usage", phone: false },
  { href: "/settings", label: "Settings", short: "Settings", icon: "settings", phone: false },
];

function current(pathname: string, href: string): boolean {
  if (href === "/videos/new") return pathname === href;
  if (href === "/dashboard")
    return pathname === href || (pathname.startsWith("/videos/") && pathname !== "/videos/new");
  return pathname === href || pathname.startsWith(`${href}/`);
}

export function StudioShell({ children }: { children: ReactNode }) {
  const pathname = usePathname();
  const router = useRouter();
  const online = useOnline();
  const [menuFor, setMenuFor] = useState<string | null>(null); // the page the menu was opened on
  const menuOpen = menuFor === pathname;
  const setMenuOpen = (open: boolean) => setMenuFor(open ? pathname : null);
  const me = useApi(() => call(() => api.GET("/v1/me")), []);

  useEffect(() => {
    if (me.error?.status === 401) router.replace(`/login?ended=1&next=${encodeURIComponent(pathname)}`);
  }, [me.error, pathname, router]);

  const logOut = useCallback(async () => {
    try {
      await request("/v1/auth/session", { method: "DELETE" });
    } finally {
      router.replace("/login");
      router.refresh();
    }
  }, [router]);

  const credits = me.data ? `${formatInt(me.data.credits)} credits` : "";
  const links = (phone: boolean) =>
    NAV.filter((item) => !phone || item.phone).map((item) => (
      <Link key={item.href} href={item.href} aria-current={current(pathname, item.href) ? "page" : undefined}>
        <Icon name={item.icon} /> {phone ? item.short : item.label}
      </Link>
    ));

  return (
    <MeContext.Provider value={{ me: me.data, refreshMe: me.reload }}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      {!online ? (
        <div className="offline-banner" role="status">
          {typeof navigator !== "undefined" && !navigator.onLine
            ? "You are offline. What you see may be out of date; changes will fail until you reconnect."
            : "NEURA cannot be reached right now. What you see may be out of date; trying again every 10 s."}
        </div>
      ) : null}
      <div className="app">
        <aside className="sidebar" aria-label="Studio">
          <Link href="/dashboard" className="brand">
            <BrandMark /> NEURA
          </Link>
          <nav className="nav" aria-label="Main">
            {links(false)}
          </nav>
          <div className="sidebar-foot">
            {me.data ? (
              <>
                <Link href="/usage" className="credit-pill" aria-label={`${credits}, see usage`}>
                  {credits}
                </Link>
                <span title={me.data.email} style={{ overflow: "hidden", textOverflow: "ellipsis" }}>
                  {me.data.email} · {me.data.plan} plan
                </span>
              </>
            ) : null}
            <button
              type="button"
              className="btn btn-ghost btn-sm"
              onClick={logOut}
              style={{ justifyContent: "flex-start" }}
            >
              <Icon name="logout" /> Log out
            </button>
          </div>
        </aside>
        <header className="topbar">
          <Link href="/dashboard" className="brand">
            <BrandMark /> NEURA
          </Link>
          <div className="row">
            {me.data ? (
              <Link href="/usage" className="credit-pill">
                {credits}
              </Link>
            ) : null}
            <button
              type="button"
              className="btn btn-ghost btn-sm"
              aria-label="Menu"
              aria-expanded={menuOpen}
              aria-controls="phone-menu"
              onClick={() => setMenuOpen(true)}
            >
              <Icon name="menu" size={22} />
            </button>
          </div>
        </header>
        {menuOpen ? (
          <div className="menu-sheet" onClick={() => setMenuOpen(false)}>
            <nav
              id="phone-menu"
              className="nav"
              aria-label="Menu"
              onClick={(e) => e.stopPropagation()}
              onKeyDown={(e) => e.key === "Escape" && setMenuOpen(false)}
            >
              <button
                type="button"
                className="btn btn-ghost btn-sm"
                onClick={() => setMenuOpen(false)}
                aria-label="Close menu"
                style={{ alignSelf: "flex-end" }}
                autoFocus
              >
                <Icon name="close" />
              </button>
              {links(false)}
              {me.data ? (
                <p className="small muted">
                  {me.data.email} · {me.data.plan} plan
                </p>
              ) : null}
              <button type="button" className="btn" onClick={logOut}>
                <Icon name="logout" /> Log out
              </button>
            </nav>
          </div>
        ) : null}
        <main className="main" id="main" tabIndex={-1}>
          {children}
        </main>
        <nav className="bottom-nav" aria-label="Sections">
          {links(true)}
        </nav>
      </div>
    </MeContext.Provider>
  );
}
