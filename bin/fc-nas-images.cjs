#!/usr/bin/env node
// The compiled CLI when it is up to date (it starts ~100 ms sooner, which counts for a crawler that is a fresh
// process every run); otherwise the TypeScript sources through tsx's require hook, so a checkout needs no build.
const compiled = require('../scripts/compiled-cli.cjs');

let cli;
if (compiled.isFresh()) {
  cli = require(compiled.ENTRY);
} else {
  require('tsx/cjs');
  cli = require('../src/local/cli.ts');
}
cli.main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
