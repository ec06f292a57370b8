// `quoteMany` without freezing the event loop. Only the JS thread may read the caller's arrays
// and create the result strings, and for a million rows each takes about a second: done at
// once, no other callback of the process runs for that second. So a batch bigger than a slice
// is read, and its answer handed back, one slice at a time by the native `BatchJob`, with a turn
// of the event loop between slices; the pricing itself runs whole on the libuv pool. Batches
// also wait for each other once too many rows are in flight, so that many big batches at once
// cannot exhaust memory: a batch starts when its rows fit the budget or nothing else runs.
'use strict'

/** Rows read or answered per turn of the event loop: a few milliseconds of work. */
const SLICE_ROWS = 4096
/** Rows of all batches in flight together (a bigger batch runs alone). */
const ROWS_IN_FLIGHT = 1 << 21

/** A row's `buyable` by its code: a failed row has none. */
const BUYABLE = [false, true, null]

/** The amount index of a failed row: no amount. */
const NO_AMOUNT = 0xffffffff

const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

/** First in, first out admission of batches by their number of rows. */
class RowGate {
  constructor(budget) {
    this.budget = budget
    this.inFlight = 0
    this.waiting = []
  }

  fits(rows) {
    return this.inFlight === 0 || this.inFlight + rows <= this.budget
  }

  /**
   * Runs `work` once `rows` fit, and at once (in this turn, so that it reads its input as the
   * caller left it) when they fit now; settles as `work`'s promise does.
   */
  run(rows, work) {
    const start = () => {
      let running
      try {
        running = Promise.resolve(work())
      } catch (err) {
        running = Promise.reject(err)
      }
      return running.finally(() => this.leave(rows))
    }
    if (this.waiting.length === 0 && this.fits(rows)) {
      this.inFlight += rows
      return start()
    }
    return new Promise((admit) => this.waiting.push({ rows, admit })).then(start)
  }

  leave(rows) {
    this.inFlight -= rows
    while (this.waiting.length > 0 && this.fits(this.waiting[0].rows)) {
      const next = this.waiting.shift()
      this.inFlight += next.rows
      next.admit()
    }
  }
}

/** The longest column of a batch input, however malformed the rest is. */
function rowsOf(input) {
  if (input === null || typeof input !== 'object') {
    return 0
  }
  let rows = 0
  for (const column of [input.accounts, input.skus, input.qtys, input.at]) {
    if (Array.isArray(column)) {
      rows = Math.max(rows, column.length)
    }
  }
  return rows
}

async function sliced(BatchJob, engine, input, signal, options) {
  const job = new BatchJob(engine)
  while (!job.read(input, SLICE_ROWS, signal)) {
    await nextTurn()
  }
  // The result columns are allocated first, one per turn: touching that much fresh memory at
  // once is itself a pause, longer while the pool prices on every core.
  // Every column has this length once the batch is priced (else pricing rejects).
  const rows = rowsOf(input)
  const out = {}
  for (const column of ['status', 'unitPrice', 'lineTotal', 'currency', 'buyable']) {
    await nextTurn()
    out[column] = new Array(rows)
  }
  await job.price(signal, options)
  const names = job.names()
  const amounts = []
  for (let row = 0; row < rows; ) {
    await nextTurn()
    const part = job.take(SLICE_ROWS, signal)
    if (part.status.length === 0) {
      break
    }
    for (const amount of part.amounts) {
      amounts.push(amount)
    }
    for (let i = 0; i < part.status.length; i += 1, row += 1) {
      out.status[row] = names.status[part.status[i]]
      out.unitPrice[row] = part.unitPrice[i] === NO_AMOUNT ? null : amounts[part.unitPrice[i]]
      out.lineTotal[row] = part.lineTotal[i] === NO_AMOUNT ? null : amounts[part.lineTotal[i]]
      out.currency[row] = names.currency[part.currency[i]]
      out.buyable[row] = BUYABLE[part.buyable[i]]
    }
  }
  return out
}

/** Replaces the native `quoteMany` of `Engine` and `EngineHandle` with the sliced one. */
function install(binding) {
  const { Engine, EngineHandle, BatchJob } = binding
  const gate = new RowGate(ROWS_IN_FLIGHT)
  const whole = Engine.prototype.quoteMany
  // `engine` is taken when the call is made: on a handle, the engine current then prices every
  // row, even if a swap happens meanwhile.
  const quoteMany = (engine, input, signal, options) => {
    const rows = rowsOf(input)
    return gate.run(rows, () =>
      rows <= SLICE_ROWS
        ? whole.call(engine, input, signal, options)
        : sliced(BatchJob, engine, input, signal, options),
    )
  }
  Engine.prototype.quoteMany = function (input, signal, options) {
    return quoteMany(this, input, signal, options)
  }
  EngineHandle.prototype.quoteMany = function (input, signal, options) {
    return quoteMany(this.current(), input, signal, options)
  }
}

module.exports = { install, RowGate, SLICE_ROWS, ROWS_IN_FLIGHT }
