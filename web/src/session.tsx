// Who is signed in (GET /api/users/@me/), shared with every page; signing out.
import { createContext, useContext } from 'react';
import type { Me } from './types.ts';

export interface Session {
  me: Me;
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

/** Organization admins and owners (level 8 and above) manage members and invites. */
export const isAdmin = (me: Me) => (me.organization?.membership_level ?? 0) >= 8;
