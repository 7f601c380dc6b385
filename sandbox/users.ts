/**
 * The fixed demo people of the sandbox. Tests and docs name them, so nothing here is random:
 * alice and bob sign in with their user name as password and have the same identity on every app.
 */
export interface DemoUser {
  username: string;
  password: string;
  /** Who the sandbox identity provider says this person is (its ID and access token claims). */
  name: string;
  email: string;
  groups: readonly string[];
  tenant: string;
  github: { login: string; id: number; name: string; email: string };
  slack: { id: string; name: string };
}

export const demoUsers: readonly DemoUser[] = [
  {
    username: 'alice',
    password: 'alice',
    name: 'Alice Example',
    email: 'alice@example.com',
    groups: ['engineering'],
    tenant: 'acme',
    github: { login: 'alice', id: 1001, name: 'Alice Example', email: 'alice@example.com' },
    slack: { id: 'U0ALICE', name: 'alice' },
  },
  {
    username: 'bob',
    password: 'bob',
    name: 'Bob Example',
    email: 'bob@example.com',
    groups: ['support'],
    tenant: 'acme',
    github: { login: 'bob', id: 1002, name: 'Bob Example', email: 'bob@example.com' },
    slack: { id: 'U0BOB', name: 'bob' },
  },
];

/** The one Slack workspace every demo user belongs to. */
export const slackTeam = { id: 'T0ACME', name: 'Acme', domain: 'acme' } as const;

export function findUser(username: string): DemoUser | undefined {
  return demoUsers.find((user) => user.username === username);
}

/** The user whose password matches, as a sign-in form checks it. */
export function checkPassword(username: string, password: string): DemoUser | undefined {
  const user = findUser(username);
  return user && user.password === password ? user : undefined;
}
