// The console: signed-out pages (sign in, invite, password setup) and, once signed in, the shell
// with the project's flags, a flag's pages and the settings.
import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError, onUnauthenticated } from './api.ts';
import { match, navigate, Redirect, useLocation } from './router.tsx';
import { SessionContext, type Session } from './session.tsx';
import type { Me } from './types.ts';
import { Spinner, ErrorState } from './components/ui.tsx';
import { Shell } from './components/Shell.tsx';
import { LoginPage } from './pages/Login.tsx';
import { SignupPage } from './pages/Signup.tsx';
import { ResetPage } from './pages/Reset.tsx';
import { FlagsPage } from './pages/Flags.tsx';
import { FlagEditPage } from './pages/FlagEdit.tsx';
import { FlagPage } from './pages/Flag.tsx';
import { AccessPage } from './pages/Access.tsx';
import { ProjectSettingsPage } from './pages/ProjectSettings.tsx';
import { KeysPage } from './pages/Keys.tsx';
import { NotFoundPage } from './pages/NotFound.tsx';
import { CohortsPage } from './pages/Cohorts.tsx';
import { CohortEditPage } from './pages/CohortEdit.tsx';
import { CohortPage } from './pages/Cohort.tsx';
import { PersonsPage } from './pages/Persons.tsx';
import { PersonPage } from './pages/Person.tsx';
import { CleanupPage } from './pages/Cleanup.tsx';
import { MyFlagsPage } from './pages/MyFlags.tsx';
import { ActivityPage } from './pages/Activity.tsx';

const PUBLIC_PATHS = ['/login', '/signup/:id', '/reset/:uuid/:token'];

function publicPage(pathname: string, onSignedIn: () => Promise<void>): ReactNode | undefined {
  if (match('/login', pathname)) return <LoginPage onSignedIn={onSignedIn} />;
  const signup = match('/signup/:id', pathname);
  if (signup) return <SignupPage inviteId={signup.id} onSignedIn={onSignedIn} />;
  const reset = match('/reset/:uuid/:token', pathname);
  if (reset) return <ResetPage uuid={reset.uuid} token={reset.token} onSignedIn={onSignedIn} />;
  return undefined;
}

/** Cohorts and people. */
function peoplePage(pathname: string): ReactNode | undefined {
  const cohorts = match('/project/:projectId/cohorts', pathname);
  if (cohorts) return <CohortsPage projectId={Number(cohorts.projectId)} />;
  const newCohort = match('/project/:projectId/cohorts/new', pathname);
  if (newCohort) return <CohortEditPage projectId={Number(newCohort.projectId)} />;
  const editCohort = match('/project/:projectId/cohorts/:cohortId/edit', pathname);
  if (editCohort) return <CohortEditPage projectId={Number(editCohort.projectId)} cohortId={Number(editCohort.cohortId)} />;
  const cohort = match('/project/:projectId/cohorts/:cohortId', pathname);
  if (cohort) return <CohortPage key={cohort.cohortId} projectId={Number(cohort.projectId)} cohortId={Number(cohort.cohortId)} />;
  const persons = match('/project/:projectId/persons', pathname);
  if (persons) return <PersonsPage projectId={Number(persons.projectId)} />;
  const person = match('/project/:projectId/persons/:personId', pathname);
  if (person) return <PersonPage key={person.personId} projectId={Number(person.projectId)} personId={person.personId} />;
  return undefined;
}

function signedInPage(pathname: string, me: Me): ReactNode {
  const flags = match('/project/:projectId/flags', pathname);
  if (flags) return <FlagsPage projectId={Number(flags.projectId)} />;
  const created = match('/project/:projectId/flags/new', pathname);
  if (created) return <FlagEditPage projectId={Number(created.projectId)} />;
  const edit = match('/project/:projectId/flags/:flagId/edit', pathname);
  if (edit) return <FlagEditPage projectId={Number(edit.projectId)} flagId={Number(edit.flagId)} />;
  const flag = match('/project/:projectId/flags/:flagId', pathname);
  if (flag) return <FlagPage projectId={Number(flag.projectId)} flagId={Number(flag.flagId)} />;
  const cohortsPage = peoplePage(pathname);
  if (cohortsPage) return cohortsPage;
  const cleanup = match('/project/:projectId/cleanup', pathname);
  if (cleanup) return <CleanupPage projectId={Number(cleanup.projectId)} />;
  const myFlags = match('/project/:projectId/my-flags', pathname);
  if (myFlags) return <MyFlagsPage projectId={Number(myFlags.projectId)} />;
  const activity = match('/project/:projectId/activity', pathname);
  if (activity) return <ActivityPage projectId={Number(activity.projectId)} />;
  if (match('/settings/members', pathname) || match('/settings/access', pathname)) return <AccessPage />;
  if (match('/settings/keys', pathname)) return <KeysPage />;
  const settings = match('/project/:projectId/settings', pathname);
  if (settings) return <ProjectSettingsPage projectId={Number(settings.projectId)} />;
  if (match('/project/:projectId', pathname)) return <Redirect to={`${pathname.replace(/\/$/, '')}/flags`} />;
  if (pathname === '/' || pathname === '/settings') return <Redirect to={me.team ? `/project/${me.team.id}/flags` : '/settings/access'} />;
  return <NotFoundPage />;
}

export function App() {
  const { pathname, href } = useLocation();
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const isPublic = PUBLIC_PATHS.some((p) => match(p, pathname));

  const refresh = useCallback(async () => {
    try {
      setMe(await api.get<Me>('/api/users/@me/', { quiet401: true }));
      setError(null);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) setMe(null);
      else setError(e);
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  useEffect(
    () =>
      onUnauthenticated(() => {
        setMe(null);
      }),
    [],
  );

  // Signed out on a page that needs a session: to the sign-in page, then back here.
  useEffect(() => {
    if (me === null && !isPublic) navigate(`/login?next=${encodeURIComponent(href)}`, { replace: true });
  }, [me, isPublic, href]);

  const signOut = useCallback(async () => {
    try {
      await api.post('/api/logout/', {}, { quiet401: true });
    } finally {
      setMe(null);
      navigate('/login', { replace: true });
    }
  }, []);

  const session = useMemo<Session | null>(() => (me ? { me, refresh, signOut } : null), [me, refresh, signOut]);

  if (isPublic) return <main className="auth-layout">{publicPage(pathname, refresh)}</main>;
  if (error)
    return (
      <main className="auth-layout">
        <ErrorState error={error} retry={() => void refresh()} />
      </main>
    );
  if (!session)
    return (
      <main className="auth-layout">
        <Spinner />
      </main>
    );
  return (
    <SessionContext.Provider value={session}>
      <Shell>{signedInPage(pathname, session.me)}</Shell>
    </SessionContext.Provider>
  );
}
