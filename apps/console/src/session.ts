export const WORKSPACES = ['caseworker', 'coordinator', 'oversight'] as const;
export type Workspace = (typeof WORKSPACES)[number];

/** Who is signed in. The credential lives in memory, or in this tab's sessionStorage if asked: never localStorage. */
export interface Session {
  readonly credential: string;
  readonly workspace: Workspace;
  readonly keepInTab: boolean;
}

const KEY = 'nrm-console.session';

export function restoreSession(storage: Storage): Session | undefined {
  try {
    const saved = JSON.parse(storage.getItem(KEY) ?? 'null') as Partial<Session> | null;
    if (
      saved &&
      typeof saved.credential === 'string' &&
      saved.credential !== '' &&
      WORKSPACES.includes(saved.workspace as Workspace)
    )
      return { credential: saved.credential, workspace: saved.workspace as Workspace, keepInTab: true };
  } catch {
    // An unreadable entry is no session.
  }
  storage.removeItem(KEY);
  return undefined;
}

export function keepSession(session: Session, storage: Storage): void {
  if (session.keepInTab) storage.setItem(KEY, JSON.stringify(session));
  else storage.removeItem(KEY);
}

export function forgetSession(storage: Storage): void {
  storage.removeItem(KEY);
}
