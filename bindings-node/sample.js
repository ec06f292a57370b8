// `require('tarif/sample')`: the sample distributor's rules document, for examples, tests and
// benchmarks. It is package data written by the `tarif-sample` crate, so the addon itself holds
// no demo code.
'use strict';

const { readFileSync } = require('node:fs');
const { join } = require('node:path');

/** The sample rules document (an electrical and tools distributor) as JSON text. */
function sampleDocument() {
  return readFileSync(join(__dirname, 'sample.json'), 'utf8');
}

module.exports = { sampleDocument };
