// The signed-in frame: a header with the project switcher, the organization, the user's menu and
// sign out; the page below.
import { useEffect, useRef, type ReactNode } from 'react';
import { Link, navigate, useLocation } from '../router.tsx';
import { isAdmin, useSession } from '../session.tsx';
import { initials, userName } from '../format.ts';
import { api } from '../api.ts';

export function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="8" className="logo-bg" />
      <path d="M10 7v18M10 8h12l-3 5 3 5H10" fill="none" stroke="#fff" strokeWidth="2.4" strokeLinejoin="round" strokeLinecap="round" />
    </svg>
  );
}

function UserMenu() {
  const { me, signOut, refresh } = useSession();
  const switchOrganization = async (id: string) => {
    await api.patch('/api/users/@me/', { set_current_organization: id });
    await refresh();
    navigate('/');
  };
  const ref = useRef<HTMLDetailsElement>(null);
  const { href } = useLocation();
  // Close the menu when the page changes or on Escape.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `href` is the trigger: a new page closes the menu
  useEffect(() => {
    if (ref.current) ref.current.open = false;
  }, [href]);
  useEffect(() => {
    const close = (event: MouseEvent) => {
      if (ref.current?.open && !ref.current.contains(event.target as Node)) ref.current.open = false;
    };
    document.addEventListener('click', close);
    return () => document.removeEventListener('click', close);
  }, []);
  return (
    <details
      className="menu"
      ref={ref}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && ref.current?.open) {
          ref.current.open = false;
          ref.current.querySelector('summary')?.focus();
        }
      }}
    >
      <summary className="menu-trigger">
        <span className="avatar" aria-hidden="true">
          {initials(me)}
        </span>
        <span className="menu-name">{userName(me)}</span>
        <span className="visually-hidden">, account menu</span>
      </summary>
      <div className="menu-panel">
        <div className="menu-header">
          <strong>{userName(me)}</strong>
          <span className="muted">{me.email}</span>
        </div>
        <Link to="/settings/keys" className="menu-item">
          Personal API keys
        </Link>
        <Link to="/settings/access" className="menu-item">
          {isAdmin(me) ? 'Access and invites' : 'Access'}
        </Link>
        {me.organizations
          .filter((o) => o.id !== me.organization?.id)
          .map((o) => (
            <button key={o.id} type="button" className="menu-item" onClick={() => void switchOrganization(o.id)}>
              Switch to {o.name}
            </button>
          ))}
        <button type="button" className="menu-item" onClick={() => void signOut()}>
          Sign out
        </button>
      </div>
    </details>
  );
}

export function Shell({ children }: { children: ReactNode }) {
  const { me } = useSession();
  const { pathname } = useLocation();
  const routeProject = /^\/project\/(\d+)/.exec(pathname)?.[1];
  const projectId = routeProject ? Number(routeProject) : me.team?.id;
  const projects = me.organization?.teams ?? (me.team ? [me.team] : []);
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to={projectId ? `/project/${projectId}/flags` : '/'} className="brand" aria-label="flaghost: feature flags">
          <Logo />
          <span className="brand-name">flaghost</span>
        </Link>
        <div className="topbar-context">
          <span className="org-name" title="Organization">
            {me.organization?.name ?? 'No organization'}
          </span>
          <span className="sep" aria-hidden="true">
            /
          </span>
          <label className="visually-hidden" htmlFor="project-switcher">
            Project
          </label>
          <select id="project-switcher" className="project-switcher" value={projectId ?? ''} onChange={(e) => navigate(`/project/${e.target.value}/flags`)}>
            {projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
        <nav className="topbar-nav" aria-label="Main">
          <Link to={projectId ? `/project/${projectId}/flags` : '/'} className="nav-link" aria-current={pathname.includes('/flags') ? 'page' : undefined}>
            Feature flags
          </Link>
          <Link to={projectId ? `/project/${projectId}/cohorts` : '/'} className="nav-link" aria-current={pathname.includes('/cohorts') ? 'page' : undefined}>
            Cohorts
          </Link>
          <Link to={projectId ? `/project/${projectId}/persons` : '/'} className="nav-link" aria-current={pathname.includes('/persons') ? 'page' : undefined}>
            People
          </Link>
          {projectId ? (
            <>
              <Link to={`/project/${projectId}/cleanup`} className="nav-link" aria-current={pathname.endsWith('/cleanup') ? 'page' : undefined}>
                Clean-up
              </Link>
              <Link to={`/project/${projectId}/my-flags`} className="nav-link" aria-current={pathname.endsWith('/my-flags') ? 'page' : undefined}>
                My flags
              </Link>
              <Link to={`/project/${projectId}/activity`} className="nav-link" aria-current={pathname.endsWith('/activity') ? 'page' : undefined}>
                Activity
              </Link>
            </>
          ) : null}
          <Link
            to="/settings/access"
            className="nav-link"
            aria-current={pathname.startsWith('/settings/members') || pathname.startsWith('/settings/access') ? 'page' : undefined}
          >
            Access
          </Link>
          {projectId ? (
            <Link to={`/project/${projectId}/settings`} className="nav-link" aria-current={pathname.endsWith('/settings') ? 'page' : undefined}>
              Settings
            </Link>
          ) : null}
        </nav>
        <UserMenu />
      </header>
      <main id="main" className="content" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
