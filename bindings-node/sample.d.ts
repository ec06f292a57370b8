/**
 * The sample rules document (an electrical and tools distributor, about 3,200 products and 40
 * accounts) as JSON text, for examples, tests and benchmarks. The same text on every call.
 */
export declare function sampleDocument(): string
