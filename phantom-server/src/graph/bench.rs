//! A reproducible benchmark of the engine on a generated organisation: users in nested
//! groups, a folder tree, and documents with owners, viewers, group viewers and parents.
//!
//! `run` builds the graph at each requested scale (scale 1 is about 100k tuples), then
//! measures load time, Check throughput on one thread and on all cores, per-check latency
//! percentiles and the index's memory. `src/bin/graph-bench.rs` runs it in release.

use std::fmt;
use std::time::{Duration, Instant};

use super::engine::{CheckRequest, Graph};
use super::tuple::TupleKey;

/// The model of the generated organisation.
pub const MODEL: &str = "model
  schema 1.1
type user
type group
  relations
    define member: [user, group#member]
type folder
  relations
    define parent: [folder]
    define owner: [user]
    define viewer: [user, group#member] or owner or viewer from parent
type document
  relations
    define parent: [folder]
    define owner: [user]
    define editor: [user, group#member] or owner
    define viewer: [user, user:*, group#member] or editor or viewer from parent
";

/// What to measure.
#[derive(Clone, Debug)]
pub struct BenchConfig {
    /// Scale factors: 1 is 10k users, 1k groups, 1k folders, 30k documents (~100k tuples);
    /// 10 is ~1M tuples.
    pub scales: Vec<u32>,
    /// Checks per throughput measurement.
    pub checks: usize,
    /// Threads for the parallel measurement.
    pub threads: usize,
    /// Bytes currently allocated, from a counting global allocator, if the binary has one.
    pub allocated_bytes: Option<fn() -> usize>,
    /// Allocations made so far, from the same allocator.
    pub allocation_count: Option<fn() -> usize>,
}

impl Default for BenchConfig {
    fn default() -> Self {
        Self {
            scales: vec![1, 10],
            checks: 200_000,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            allocated_bytes: None,
            allocation_count: None,
        }
    }
}

/// Measurements at one scale.
#[derive(Clone, Debug)]
pub struct ScaleReport {
    /// The scale factor.
    pub scale: u32,
    /// Tuples loaded.
    pub tuples: usize,
    /// Time to write the model and apply every tuple (in batches of 1000).
    pub load: Duration,
    /// Checks per second on one thread (wall clock).
    pub checks_per_sec_single: f64,
    /// Checks per second of CPU time on one thread: what one core does when nothing else
    /// competes for it (from `/proc/thread-self/schedstat`; `None` elsewhere).
    pub checks_per_cpu_sec: Option<f64>,
    /// Checks per second on `threads` threads.
    pub checks_per_sec_parallel: f64,
    /// Threads used for the parallel figure.
    pub threads: usize,
    /// Median latency of one check.
    pub p50: Duration,
    /// 99th percentile latency of one check.
    pub p99: Duration,
    /// Share of checks that were allowed.
    pub allowed_ratio: f64,
    /// Mean latency of allowed checks.
    pub mean_allowed: Duration,
    /// Mean latency of denied checks.
    pub mean_denied: Duration,
    /// Bytes the index allocated (capacities of its vectors, arena and tables).
    pub index_bytes: usize,
    /// Bytes allocated while loading, as the global allocator counted them.
    pub allocated_bytes: Option<usize>,
    /// Heap allocations per check in the single-threaded run.
    pub allocations_per_check: Option<f64>,
}

/// The benchmark's results.
#[derive(Clone, Debug)]
pub struct BenchReport {
    /// One row per scale.
    pub scales: Vec<ScaleReport>,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "| tuples | load | checks/s (1 thread) | checks per CPU-s (1 thread) | checks/s ({} threads) | p50 | p99 | mean allowed / denied | allowed | index B/tuple | allocated B/tuple | allocs/check |",
            self.scales.first().map_or(0, |s| s.threads)
        )?;
        writeln!(
            f,
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        )?;
        for s in &self.scales {
            let per_tuple = |bytes: usize| bytes as f64 / s.tuples.max(1) as f64;
            writeln!(
                f,
                "| {} | {:.2} s | {:.0} | {} | {:.0} | {:.1} µs | {:.1} µs | {:.1} / {:.1} µs | {:.0}% | {:.1} | {} | {} |",
                s.tuples,
                s.load.as_secs_f64(),
                s.checks_per_sec_single,
                s.checks_per_cpu_sec
                    .map_or_else(|| "n/a".to_owned(), |c| format!("{c:.0}")),
                s.checks_per_sec_parallel,
                s.p50.as_secs_f64() * 1e6,
                s.p99.as_secs_f64() * 1e6,
                s.mean_allowed.as_secs_f64() * 1e6,
                s.mean_denied.as_secs_f64() * 1e6,
                s.allowed_ratio * 100.0,
                per_tuple(s.index_bytes),
                s.allocated_bytes
                    .map_or_else(|| "n/a".to_owned(), |b| format!("{:.1}", per_tuple(b))),
                s.allocations_per_check
                    .map_or_else(|| "n/a".to_owned(), |a| format!("{a:.2}")),
            )?;
        }
        Ok(())
    }
}

/// A small deterministic generator (xorshift64*), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n.max(1))) as u32
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent
    }
}

/// The generated organisation at one scale.
pub struct Dataset {
    /// Every tuple.
    pub tuples: Vec<TupleKey>,
    /// Number of users.
    pub users: u32,
    /// Number of documents.
    pub documents: u32,
    /// The owner of each document.
    pub owners: Vec<u32>,
}

/// Generates the organisation at `scale`.
pub fn generate(scale: u32) -> Dataset {
    let (users, groups, folders, documents) =
        (10_000 * scale, 1_000 * scale, 1_000 * scale, 30_000 * scale);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ u64::from(scale));
    let mut tuples = Vec::with_capacity(104_000 * scale as usize);
    let t = |o: String, r: &str, u: String| TupleKey::new(o, r, u);

    // Groups in three levels: 10% top, 30% middle, 60% leaves; each lower group is a member
    // of one group on the level above, so membership nests three deep.
    let top = groups / 10;
    let middle = groups * 4 / 10;
    for g in top..groups {
        let parent = if g < middle {
            rng.below(top)
        } else {
            top + rng.below(middle - top)
        };
        tuples.push(t(
            format!("group:g{parent}"),
            "member",
            format!("group:g{g}#member"),
        ));
    }
    // Each user is in one or two groups, mostly leaves.
    for u in 0..users {
        let count = 1 + u32::from(rng.chance(50));
        for _ in 0..count {
            let g = if rng.chance(80) {
                middle + rng.below(groups - middle)
            } else {
                rng.below(middle)
            };
            let tuple = t(format!("group:g{g}"), "member", format!("user:u{u}"));
            if !tuples.contains_last(&tuple) {
                tuples.push(tuple);
            }
        }
    }
    // Folders in an 8-ary tree, each with an owner and a viewing group.
    for f in 1..folders {
        tuples.push(t(
            format!("folder:f{f}"),
            "parent",
            format!("folder:f{}", (f - 1) / 8),
        ));
    }
    for f in 0..folders {
        tuples.push(t(
            format!("folder:f{f}"),
            "owner",
            format!("user:u{}", rng.below(users)),
        ));
        tuples.push(t(
            format!("folder:f{f}"),
            "viewer",
            format!("group:g{}#member", rng.below(groups)),
        ));
    }
    // Documents: a parent folder and an owner each; some user viewers, some group viewers,
    // a few public ones.
    let mut owners = Vec::with_capacity(documents as usize);
    for d in 0..documents {
        let doc = format!("document:d{d}");
        let owner = rng.below(users);
        owners.push(owner);
        tuples.push(t(
            doc.clone(),
            "parent",
            format!("folder:f{}", rng.below(folders)),
        ));
        tuples.push(t(doc.clone(), "owner", format!("user:u{owner}")));
        if rng.chance(50) {
            let viewer = (owner + 1 + rng.below(users - 1)) % users;
            tuples.push(t(doc.clone(), "viewer", format!("user:u{viewer}")));
        }
        if rng.chance(30) {
            tuples.push(t(
                doc.clone(),
                "viewer",
                format!("group:g{}#member", rng.below(groups)),
            ));
        }
        if rng.chance(1) {
            tuples.push(t(doc, "viewer", "user:*".to_owned()));
        }
    }
    Dataset {
        tuples,
        users,
        documents,
        owners,
    }
}

trait ContainsLast {
    fn contains_last(&self, tuple: &TupleKey) -> bool;
}

impl ContainsLast for Vec<TupleKey> {
    /// Whether the previous tuple is the same (the only duplicate the generator can make).
    fn contains_last(&self, tuple: &TupleKey) -> bool {
        self.last() == Some(tuple)
    }
}

/// A check workload: half the checks ask about a document's owner (allowed through
/// `editor`), half about a random user (mostly denied after walking groups and folders).
pub fn workload(data: &Dataset, n: usize, seed: u64) -> Vec<(String, String)> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let d = rng.below(data.documents);
            let user = if rng.chance(50) {
                data.owners[d as usize]
            } else {
                rng.below(data.users)
            };
            (format!("document:d{d}"), format!("user:u{user}"))
        })
        .collect()
}

fn run_checks(graph: &Graph, checks: &[(String, String)]) -> usize {
    checks
        .iter()
        .filter(|(doc, user)| {
            graph
                .check(&CheckRequest::new(doc, "viewer", user))
                .is_ok_and(|r| r.allowed)
        })
        .count()
}

/// CPU time this thread has run, in nanoseconds (Linux's schedstat).
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Runs the benchmark.
///
/// # Errors
///
/// A [`super::GraphError`] if the generated model or tuples are rejected (a bug).
pub fn run(config: &BenchConfig) -> Result<BenchReport, super::GraphError> {
    let mut reports = Vec::new();
    for &scale in &config.scales {
        let data = generate(scale);

        let before = config.allocated_bytes.map(|f| f());
        let started = Instant::now();
        let mut graph = Graph::new();
        graph.write_model_dsl(MODEL)?;
        for batch in data.tuples.chunks(1000) {
            graph.apply(batch, &[])?;
        }
        graph.shrink_to_fit();
        let load = started.elapsed();
        let allocated_bytes = config
            .allocated_bytes
            .map(|f| f().saturating_sub(before.unwrap_or(0)));

        // Single thread: throughput, then latency one check at a time.
        let checks = workload(&data, config.checks, 7);
        let _ = run_checks(
            &graph,
            checks.get(..checks.len().min(10_000)).unwrap_or_default(),
        );
        let allocations_before = config.allocation_count.map(|f| f());
        let cpu_before = thread_cpu_ns();
        let started = Instant::now();
        let allowed = run_checks(&graph, &checks);
        let allocations_per_check = match (allocations_before, config.allocation_count) {
            (Some(before), Some(count)) => {
                Some(count().saturating_sub(before) as f64 / checks.len().max(1) as f64)
            }
            _ => None,
        };
        let single = checks.len() as f64 / started.elapsed().as_secs_f64();
        let checks_per_cpu_sec = match (cpu_before, thread_cpu_ns()) {
            (Some(a), Some(b)) if b > a => Some(checks.len() as f64 / ((b - a) as f64 / 1e9)),
            _ => None,
        };

        let (mut sum_allowed, mut n_allowed, mut sum_denied, mut n_denied) =
            (Duration::ZERO, 0u32, Duration::ZERO, 0u32);
        let mut latencies: Vec<Duration> = checks
            .iter()
            .map(|(doc, user)| {
                let t = Instant::now();
                let allowed = graph
                    .check(&CheckRequest::new(doc, "viewer", user))
                    .is_ok_and(|r| r.allowed);
                let elapsed = t.elapsed();
                if allowed {
                    sum_allowed += elapsed;
                    n_allowed += 1;
                } else {
                    sum_denied += elapsed;
                    n_denied += 1;
                }
                elapsed
            })
            .collect();
        latencies.sort_unstable();
        let percentile = |p: f64| {
            latencies
                .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };

        // All threads, each on its own slice of the workload.
        let threads = config.threads.max(1);
        let per_thread = checks.len().div_ceil(threads);
        let started = Instant::now();
        std::thread::scope(|scope| {
            for slice in checks.chunks(per_thread) {
                let graph = &graph;
                scope.spawn(move || run_checks(graph, slice));
            }
        });
        let parallel = checks.len() as f64 / started.elapsed().as_secs_f64();

        reports.push(ScaleReport {
            scale,
            tuples: graph.len(),
            load,
            checks_per_sec_single: single,
            checks_per_cpu_sec,
            checks_per_sec_parallel: parallel,
            threads,
            p50: percentile(0.50),
            p99: percentile(0.99),
            allowed_ratio: allowed as f64 / checks.len().max(1) as f64,
            mean_allowed: sum_allowed / n_allowed.max(1),
            mean_denied: sum_denied / n_denied.max(1),
            index_bytes: graph.index_bytes(),
            allocated_bytes,
            allocations_per_check,
        });
    }
    Ok(BenchReport { scales: reports })
}
