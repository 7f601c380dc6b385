// Test files are TypeScript ES modules; SWC strips the types and keeps ESM so import.meta works as in production.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Most suites drive a real Temporal, worker process and HTTP servers; on a busy CI machine a full
  // round trip can outlast jest's 5 s default without anything being wrong.
  testTimeout: 30_000,
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2024' }, module: { type: 'es6' } }],
  },
};
