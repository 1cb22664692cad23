#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's require hook, so a checkout needs no build step.
require('tsx/cjs');
require('../src/local/cli.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
