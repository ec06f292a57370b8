#!/usr/bin/env node
// `npx tarif …` (the package's `bin`): the `tarif` command of the Rust cli crate, run by the
// native addon in this process: check, quote, explain, lookup, search, reprice.
'use strict'

const { runCli } = require('./tarif.cjs')

process.exitCode = runCli(['tarif', ...process.argv.slice(2)])
