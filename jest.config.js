// Native ESM jest (middy and oauth2-mock-server are ESM-only): run with
// NODE_OPTIONS=--experimental-vm-modules; swc strips types, `tsc --noEmit` checks them.
// One project per tier: `npm test` runs them all, `npm run test:<tier>` one of them.
const base = {
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
      },
    ],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};

const tier = (name, ...folders) => ({
  ...base,
  displayName: name,
  testMatch: folders.map((folder) => `<rootDir>/test/${folder}/**/*.test.ts`),
});

export default {
  testTimeout: 20000,
  projects: [
    // Pure functions: no I/O, no servers (under 5 s).
    tier('unit', 'unit'),
    // Real protocol peers on loopback (SMTP, OAuth, SES, DynamoDB), real SQLite in temp dirs, the
    // Lambda entries as deployed, and one contract suite per port run against every adapter.
    tier('integration', 'integration', 'handlers', 'contract'),
    // CDK assertions on the synthesized template.
    tier('infra', 'infra'),
    // The embedded runtime end to end, and the admin page in Chromium.
    tier('e2e', 'e2e'),
  ],
};
