// The package's typings: the generated declarations of the native addon (index.d.ts), and what
// the entry points (tarif.cjs, tarif.mjs) add to them. A test compares `TarifErrorCode` with the
// codes the addon reports (`errorCodes()`), so that a new code cannot be left out.
export * from './index.js'

import type { DiagnosticInfo, ErrorDetails, ImportDiagnosticInfo } from './index.js'

/** Every `err.code` an error of the package can carry. */
export type TarifErrorCode =
  | 'UNKNOWN_ACCOUNT'
  | 'UNKNOWN_PRODUCT'
  | 'PRICE_HIDDEN'
  | 'NO_PRICE'
  | 'QUANTITY_RULE'
  | 'INVALID_QUANTITY'
  | 'UNKNOWN_CURRENCY'
  | 'INVALID_INSTANT'
  | 'OVERFLOW'
  | 'INVALID_BATCH'
  | 'NOT_BUYABLE'
  | 'INVALID_ORDER_TEXT'
  | 'MINIMUM_ORDER'
  | 'UNKNOWN_USER'
  | 'PRICE_BOUND'
  | 'QUOTE_INVALID'
  | 'QUOTE_TAMPERED'
  | 'QUOTE_EXPIRED'
  | 'QUOTE_KEY'
  | 'COMPILE_ERROR'
  | 'STRICT_WARNINGS'
  | 'IMPORT_ERROR'
  | 'SNAPSHOT_CORRUPT'
  | 'SNAPSHOT_VERSION'
  | 'IO_ERROR'
  | 'INVALID_TYPE'
  | 'FLOAT_REJECTED'
  | 'INVALID_TEXT'
  | 'INVALID_QUERY'
  | 'INVALID_RELATION_KIND'
  | 'INVALID_CURSOR'
  | 'NAIVE_DATETIME'
  | 'ABORT_ERR'
  | 'INTERNAL_ERROR'
  | 'NATIVE_ADDON_MISSING'

/**
 * The class of every error the package throws or rejects with (`err instanceof TarifError`).
 * An aborted call's error is named `AbortError`, as Node's own are.
 */
export declare class TarifError extends Error {
  /** The stable code of the error. */
  readonly code: TarifErrorCode
  /**
   * What the code names: every diagnostic of a rejected document (`COMPILE_ERROR`,
   * `STRICT_WARNINGS`) or of rejected tables (`IMPORT_ERROR`), the values a query error names;
   * absent for the others.
   */
  readonly details?: ErrorDetails | Array<DiagnosticInfo> | Array<ImportDiagnosticInfo>
  /** Every code, as `TarifErrorCode` lists them. */
  static readonly codes: ReadonlyArray<TarifErrorCode>
}
