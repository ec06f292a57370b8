// `quote` with its result built in JavaScript. N-API builds an object by setting its properties
// one at a time, each under a name V8 looks up in its string table, and for a quote that cost
// several times the pricing itself. The native `quoteParts` returns the same values as one text
// (src/output.rs, `quote_text`), or, for a quote with stock or a value the text cannot carry, as
// an array in the order of QuoteResult's fields; an object literal of that shape is almost free.
'use strict'

/** Separates the values of a quote's text. */
const SEPARATOR = '\x1f'
/** A null value in a quote's text. */
const NULL = '\x00'
/** The values of a quote's text before its steps, and the values of a step. */
const HEAD = 10
const STEP = 7

const nullable = (value) => (value === NULL ? null : value)

/** The `QuoteResult` of a quote's text. */
function fromText(text) {
  const v = text.split(SEPARATOR)
  const steps = []
  for (let i = HEAD; i < v.length; i += STEP) {
    steps.push({
      step: v[i],
      rule: v[i + 1],
      source: v[i + 2],
      level: v[i + 3],
      before: nullable(v[i + 4]),
      after: v[i + 5],
      notes: v[i + 6] === '' ? [] : v[i + 6].split(','),
    })
  }
  return {
    sku: v[0],
    qty: v[1],
    currency: v[2],
    unitPrice: v[3],
    lineTotal: v[4],
    basePrice: v[5],
    listPrice: nullable(v[6]),
    buyable: v[7] === '1',
    stage: v[8],
    steps,
    engineVersion: v[9],
    stock: null,
  }
}

/** The `QuoteResult` of a quote's tuple. */
function fromTuple(t) {
  return {
    sku: t[0],
    qty: t[1],
    currency: t[2],
    unitPrice: t[3],
    lineTotal: t[4],
    basePrice: t[5],
    listPrice: t[6],
    buyable: t[7],
    stage: t[8],
    steps: t[9].map((s) => ({
      step: s[0],
      rule: s[1],
      source: s[2],
      level: s[3],
      before: s[4],
      after: s[5],
      notes: s[6],
    })),
    engineVersion: t[10],
    stock: t[11],
  }
}

/** Where the native `quote` stays reachable, for the test that holds both paths equal. */
const nativeQuote = Symbol.for('tarif.nativeQuote')

/**
 * Replaces `quote` of `Engine` and `EngineHandle` by the path through `quoteParts`. An input that is not an
 * object, or lacks a required field, goes to the native `quote`, so that its error (code and
 * message) is the one the native reading of the object gives.
 */
function install(binding) {
  for (const Class of [binding.Engine, binding.EngineHandle]) {
    const native = Class.prototype.quote
    Object.defineProperty(Class.prototype, nativeQuote, { value: native })
    Class.prototype.quote = function quote(input) {
      if (
        typeof input !== 'object' ||
        input === null ||
        input.account === undefined ||
        input.sku === undefined ||
        input.qty === undefined
      ) {
        return native.call(this, input)
      }
      const parts = this.quoteParts(input.account, input.sku, input.qty, input.at, input.currency)
      return typeof parts === 'string' ? fromText(parts) : fromTuple(parts)
    }
  }
}

module.exports = { install }
