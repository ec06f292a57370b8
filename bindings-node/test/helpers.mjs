// Shared by the node:test suites: the binding, and a small document that exercises every error.
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const tarif = require('../tarif.cjs');
export const { Engine, EngineHandle } = tarif;
export const { sampleDocument } = require('../sample.js');
// Rows per slice of a batch read and answered in slices.
export const { RowGate, SLICE_ROWS } = require('../batch.cjs');

export function smallDocument({ drillPrice = '129.00' } = {}) {
  return {
    format: 'tarif/1',
    settings: { timezone: 'Europe/Paris', default_price_lists: ['list-eur', 'list-usd'] },
    currencies: [{ code: 'EUR', scale: 2 }, { code: 'USD', scale: 2 }],
    categories: [{ id: 'tools' }, { id: 'drills', parent: 'tools' }],
    products: [
      { sku: 'DR-18V-01', ean: '3401234567890', mpn: 'BSH-0601', categories: ['drills'], brand: 'Bosch', cost: '61.20' },
      { sku: 'BAT-18V-4AH', categories: ['tools'], brand: 'Bosch', order: { min: 2, multiple: 2 } },
      { sku: 'EUR-ONLY', brand: 'Bosch' },
      { sku: 'SECRET', brand: 'Bosch' },
      { sku: 'NOPRICE-SHOWN', brand: 'Acme' },
    ],
    price_lists: [
      { id: 'list-eur', currency: 'EUR', prices: [
        { sku: 'DR-18V-01', price: drillPrice, tiers: [{ min_qty: 10, price: '119.00' }] },
        { sku: 'BAT-18V-4AH', price: '79.00' },
        { sku: 'EUR-ONLY', price: '5.00' },
        { sku: 'SECRET', price: '1.00' },
        { sku: 'NOPRICE-SHOWN', price: '3.00' },
      ] },
      { id: 'list-usd', currency: 'USD', prices: [{ sku: 'DR-18V-01', price: '140.00' }] },
      { id: 'acme-net', currency: 'EUR', net: true, prices: [{ sku: 'BAT-18V-4AH', price: '64.50' }] },
    ],
    accounts: [
      { id: 'ACME', currency: 'EUR', price_lists: ['acme-net'], aliases: { 'ACME-4711': 'DR-18V-01' } },
      { id: 'ACME-LYON', parent: 'ACME' },
      { id: 'RETAIL' },
    ],
    contracts: [
      { id: 'CTR-ACME', audience: { accounts: ['ACME'] },
        valid: { from: '2026-01-01', until: '2027-01-01' },
        rules: [{ id: 'tools-10', step: 'discount', products: { category: 'tools' }, percent: '-10' }] },
      { id: 'CTR-HIDE', audience: 'all',
        visibility: [
          { effect: 'deny', products: { sku: 'SECRET' } },
          { effect: 'deny', products: { sku: 'NOPRICE-SHOWN' }, capabilities: ['price'] },
        ] },
    ],
  };
}

export const AT = '2026-06-01T12:00:00Z';

export function smallEngine(options) {
  return Engine.fromJson(JSON.stringify(smallDocument(options)));
}

/** Runs `fn`, expecting it to throw; returns the error. */
export function thrown(fn) {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

/** The shared fixtures directory (tests/fixtures/). */
export const FIXTURES = fileURLToPath(new URL('../../tests/fixtures/', import.meta.url));

/**
 * Every fixture file of cases under `dir`, sorted; import/ holds tables and manifests for the
 * importer (import.test.mjs), not cases.
 */
export function fixtureFiles(dir = FIXTURES) {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return name === 'import' && dir === FIXTURES ? [] : fixtureFiles(path);
      return name.endsWith('.json') ? [path] : [];
    });
}
