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
  // Eight more people for the scale-out suite (many users at once); same shape as alice and bob.
  {
    username: 'carol',
    password: 'carol',
    name: 'Carol Example',
    email: 'carol@example.com',
    groups: ['engineering'],
    tenant: 'acme',
    github: { login: 'carol', id: 1003, name: 'Carol Example', email: 'carol@example.com' },
    slack: { id: 'U0CAROL', name: 'carol' },
  },
  {
    username: 'dave',
    password: 'dave',
    name: 'Dave Example',
    email: 'dave@example.com',
    groups: ['engineering'],
    tenant: 'acme',
    github: { login: 'dave', id: 1004, name: 'Dave Example', email: 'dave@example.com' },
    slack: { id: 'U0DAVE', name: 'dave' },
  },
  {
    username: 'erin',
    password: 'erin',
    name: 'Erin Example',
    email: 'erin@example.com',
    groups: ['support'],
    tenant: 'acme',
    github: { login: 'erin', id: 1005, name: 'Erin Example', email: 'erin@example.com' },
    slack: { id: 'U0ERIN', name: 'erin' },
  },
  {
    username: 'frank',
    password: 'frank',
    name: 'Frank Example',
    email: 'frank@example.com',
    groups: ['engineering'],
    tenant: 'acme',
    github: { login: 'frank', id: 1006, name: 'Frank Example', email: 'frank@example.com' },
    slack: { id: 'U0FRANK', name: 'frank' },
  },
  {
    username: 'grace',
    password: 'grace',
    name: 'Grace Example',
    email: 'grace@example.com',
    groups: ['support'],
    tenant: 'acme',
    github: { login: 'grace', id: 1007, name: 'Grace Example', email: 'grace@example.com' },
    slack: { id: 'U0GRACE', name: 'grace' },
  },
  {
    username: 'heidi',
    password: 'heidi',
    name: 'Heidi Example',
    email: 'heidi@example.com',
    groups: ['engineering'],
    tenant: 'acme',
    github: { login: 'heidi', id: 1008, name: 'Heidi Example', email: 'heidi@example.com' },
    slack: { id: 'U0HEIDI', name: 'heidi' },
  },
  {
    username: 'ivan',
    password: 'ivan',
    name: 'Ivan Example',
    email: 'ivan@example.com',
    groups: ['support'],
    tenant: 'acme',
    github: { login: 'ivan', id: 1009, name: 'Ivan Example', email: 'ivan@example.com' },
    slack: { id: 'U0IVAN', name: 'ivan' },
  },
  {
    username: 'judy',
    password: 'judy',
    name: 'Judy Example',
    email: 'judy@example.com',
    groups: ['engineering'],
    tenant: 'acme',
    github: { login: 'judy', id: 1010, name: 'Judy Example', email: 'judy@example.com' },
    slack: { id: 'U0JUDY', name: 'judy' },
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
