// `quote` with its result built in JavaScript. N-API builds an object by setting its properties
// one at a time, each under a name V8 looks up in its string table, and for a quote that cost
// several times the pricing itself. The native `quoteTuple` returns the same values as an array
// in the order of QuoteResult's fields; an object literal of that fixed shape is almost free.
'use strict'

/** The `QuoteResult` of a `quoteTuple` answer. */
function quoteResult(t) {
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
 * Replaces `quote` of `Engine` and `EngineHandle` by the tuple path. An input that is not an
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
      return quoteResult(this.quoteTuple(input.account, input.sku, input.qty, input.at, input.currency))
    }
  }
}

module.exports = { install }
