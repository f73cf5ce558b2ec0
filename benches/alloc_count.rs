//! Heap allocations per request of each variant and case, counted by a global allocator.
//!
//! Run with `cargo bench --bench alloc_count`. Each request is built before the count starts and
//! its response dropped after the count ends, so the figures cover calling the service and
//! polling its future: the inner handler's response and whatever the layer adds. The counts are
//! deterministic, so one run is enough.

mod variants;

use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};

use http::{Request, Response};
use tower::Service;

use variants::{Body, Case, RequestFactory, Variant, Visit, call_now, check_response};

/// Counts every allocation and reallocation, with the bytes requested, and leaves the work to
/// the system allocator.
struct CountingAllocator;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: forwarded unchanged, so the caller's guarantees hold for `System`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged, so the caller's guarantees hold for `System`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        // SAFETY: forwarded unchanged, so the caller's guarantees hold for `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Requests counted per variant and case, after [`WARM_UP_REQUESTS`] uncounted ones.
const COUNTED_REQUESTS: u64 = 1_000;
const WARM_UP_REQUESTS: u64 = 10;

/// Allocations and allocated bytes per request.
#[derive(Clone, Copy, Debug, PartialEq)]
struct PerRequest {
    allocations: f64,
    bytes: f64,
}

struct CountAllocations<'a> {
    factory: &'a RequestFactory,
    variant: Variant,
    case: Case,
}

impl Visit for CountAllocations<'_> {
    type Output = PerRequest;

    fn visit<S>(self, mut service: S) -> PerRequest
    where
        S: Service<Request<()>, Response = Response<Body>, Error = Infallible>,
    {
        let Self {
            factory,
            variant,
            case,
        } = self;
        for _ in 0..WARM_UP_REQUESTS {
            check_response(variant, case, &call_now(&mut service, factory.build(case)));
        }

        let mut allocations = 0;
        let mut bytes = 0;
        for _ in 0..COUNTED_REQUESTS {
            let request = factory.build(case);
            let allocations_before = ALLOCATIONS.load(Ordering::Relaxed);
            let bytes_before = ALLOCATED_BYTES.load(Ordering::Relaxed);
            let response = call_now(&mut service, request);
            allocations += ALLOCATIONS.load(Ordering::Relaxed) - allocations_before;
            bytes += ALLOCATED_BYTES.load(Ordering::Relaxed) - bytes_before;
            drop(response);
        }
        PerRequest {
            allocations: allocations as f64 / COUNTED_REQUESTS as f64,
            bytes: bytes as f64 / COUNTED_REQUESTS as f64,
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a name filter, as other benches take, is not supported.
    let factory = RequestFactory::new();
    let cases: Vec<Case> = Case::MAIN
        .into_iter()
        .chain([Case::SimpleGetBareResponse])
        .collect();

    let mut table = Vec::new();
    for variant in Variant::all() {
        let row: Vec<PerRequest> = cases
            .iter()
            .map(|&case| {
                let counter = CountAllocations {
                    factory: &factory,
                    variant,
                    case,
                };
                variants::visit_service(variant, case, counter)
            })
            .collect();
        table.push((variant, row));
    }

    let baseline = table[0].1.clone();
    println!("Allocations per request (difference to no-layer), bytes allocated in brackets");
    println!();
    let header: Vec<&str> = cases.iter().map(|case| case.name()).collect();
    println!("| variant | {} |", header.join(" | "));
    println!("|---|{}", "---:|".repeat(header.len()));
    for (variant, row) in &table {
        let cells: Vec<String> = row
            .iter()
            .zip(&baseline)
            .map(|(counts, base)| {
                let extra = counts.allocations - base.allocations;
                if *variant == Variant::NoLayer {
                    format!("{} [{} B]", counts.allocations, counts.bytes)
                } else {
                    format!("{} ({extra:+}) [{} B]", counts.allocations, counts.bytes)
                }
            })
            .collect();
        println!("| {} | {} |", variant.name(), cells.join(" | "));
    }
}
