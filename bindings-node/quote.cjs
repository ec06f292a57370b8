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

/**
 * A `QuoteResult` from the values in the order both forms share (SKU … stage, engine version at
 * 9), with the fields each form writes its own way already read.
 */
function quoteResult(v, listPrice, buyable, steps, stock) {
  return {
    sku: v[0],
    qty: v[1],
    currency: v[2],
    unitPrice: v[3],
    lineTotal: v[4],
    basePrice: v[5],
    listPrice,
    buyable,
    stage: v[8],
    steps,
    engineVersion: v[9],
    stock,
  }
}

/** A `QuoteStep` from the step's values starting at `i`, `before` and `notes` already read. */
function quoteStep(v, i, before, notes) {
  return { step: v[i], rule: v[i + 1], source: v[i + 2], level: v[i + 3], before, after: v[i + 5], notes }
}

/** The `QuoteResult` of a quote's text. */
function fromText(text) {
  const v = text.split(SEPARATOR)
  const steps = []
  for (let i = HEAD; i < v.length; i += STEP) {
    steps.push(quoteStep(v, i, nullable(v[i + 4]), v[i + 6] === '' ? [] : v[i + 6].split(',')))
  }
  return quoteResult(v, nullable(v[6]), v[7] === '1', steps, null)
}

/** The `QuoteResult` of a quote's tuple: the text's values, then the steps and the stock. */
function fromTuple(t) {
  const steps = t[HEAD].map((s) => quoteStep(s, 0, s[4], s[6]))
  return quoteResult(t, t[6], t[7], steps, t[HEAD + 1])
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
