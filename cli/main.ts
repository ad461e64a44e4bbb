#!/usr/bin/env node
/** The kubeseal binary. */
import { runKubeseal } from './app.js';
import { processIo } from './io.js';

runKubeseal(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`error: internal error (${(e as Error)?.name ?? 'unknown'})\n`);
    process.exitCode = 1;
  },
);
