/** A value the global setup (e2e/global-setup.ts) put in the environment; fails loudly when a spec runs without it. */
export function fromSetup(name: 'CORDA_E2E_URL' | 'CORDA_E2E_DEMO_DIR' | 'CORDA_E2E_PROJECT_DIR'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the specs through playwright.config.ts, whose global setup sets it.`);
  return value;
}
