//! The allocator of the programs built on the tarif core: the Python extension
//! and the bench tools call [`jemalloc!`] once, at their crate root. (The Node addon keeps
//! glibc's allocator: its batches measured the same under both, their cost being the
//! JavaScript values.)
//!
//! Why jemalloc: under glibc's allocator every batch's result columns (hundreds of megabytes)
//! came back from the kernel as fresh pages, and zeroing them cost more than the pricing
//! (docs/performance.md, "Python batches and the allocator"). Why these options: by default
//! jemalloc serves allocations of 8 MiB and more (a batch's columns) from an arena that hands
//! their pages back to the kernel as soon as they are freed, so each step of a batch faulted
//! its columns in again; `oversize_threshold:0` serves them like the others, and freed pages
//! are kept for reuse up to 30 s instead of 10 before they decay back to the kernel (a
//! 10M-line simulation 8–10 % faster, docs/performance.md, "Freed pages kept for the next
//! step"). The host language's own objects keep their allocators.

pub use tikv_jemallocator;

/// The options jemalloc reads at its first allocation, as the C string its `malloc_conf`
/// symbol points to.
///
/// ```
/// assert!(tarif_allocator::OPTIONS.ends_with(b"\0"));
/// ```
pub const OPTIONS: &[u8] = b"oversize_threshold:0,dirty_decay_ms:30000\0";

/// Makes jemalloc, with [`OPTIONS`], the allocator of the crate it is called in. A macro:
/// jemalloc finds its options by symbol, which must be defined in the final binary's own code,
/// not in a library member that nothing else pulls into the link.
///
/// ```
/// tarif_allocator::jemalloc!();
///
/// fn main() {
///     // jemalloc prints the options it runs with: those of `OPTIONS`, not its defaults.
///     let mut report = Vec::new();
///     tikv_jemalloc_ctl::stats_print::stats_print(&mut report, Default::default()).unwrap();
///     let report = String::from_utf8_lossy(&report);
///     assert!(report.contains("opt.oversize_threshold: 0"), "{report}");
///     assert!(report.contains("opt.dirty_decay_ms: 30000"), "{report}");
/// }
/// ```
#[macro_export]
macro_rules! jemalloc {
    () => {
        #[global_allocator]
        static ALLOCATOR: $crate::tikv_jemallocator::Jemalloc = $crate::tikv_jemallocator::Jemalloc;

        // jemalloc's `malloc_conf`: a pointer to the options' first byte.
        #[export_name = "_rjem_malloc_conf"]
        static JEMALLOC_OPTIONS: Option<&u8> = $crate::OPTIONS.first();
    };
}
