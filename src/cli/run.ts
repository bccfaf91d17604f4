// Entry point of the `corda` command (bundled to out/main/cli.js; bin/corda.js loads it).
// `serve` keeps the process alive through its server; every other command ends when main() settles.
import { main } from './index';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`corda: internal error: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
