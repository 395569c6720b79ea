//! Where a side's resident memory is (`--memory-breakdown`): `/proc/self/smaps` read at the
//! same moments as the memory row's samples, each mapping's resident size attributed to what
//! it holds.
//!
//! The pooling allocator reserves each pool as one mapping, which `mprotect` then splits:
//! - linear memories: slots of the memory reservation (4 GiB each) end to end, so the pool is
//!   the one run of adjacent mappings spanning more than 64 GiB; a slot starts at an accessible
//!   mapping after an inaccessible one (its copy-on-write image is mapped over part of it).
//!   Its resident pages are read from `/proc/self/pagemap` and split by offset into the
//!   guest's stack, data and heap, as the component's core module lays them out;
//! - fiber stacks: `total_stacks` stacks end to end, each a page of guard then the stack, so the
//!   pool is a run of many (guard page, accessible mapping of one size) pairs;
//! - tables: one accessible mapping of `total_tables` × the table size, larger than any of
//!   glibc's malloc arenas (64 MiB);
//! - the rest: the malloc heap (the brk heap and the arenas), thread stacks and the code.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

const PAGE: u64 = 4096;
/// A run of adjacent mappings longer than this is the linear-memory pool.
const MEMORY_POOL_SPAN: u64 = 64 << 30;
/// Fewer (guard, stack) pairs in a row than this are threads' stacks, not the fiber pool.
const STACK_POOL_PAIRS: usize = 32;
/// An accessible anonymous mapping larger than this (outside the memory pool) is the table
/// pool: glibc's arenas are at most 64 MiB.
const TABLE_POOL_BYTES: u64 = 96 << 20;

/// How a component's core module lays out its linear memory (wasm-ld's `--stack-first`: the
/// shadow stack from 0 up to the stack pointer's start, then data, then the heap).
#[derive(Debug, Clone, Copy, Default)]
pub struct GuestLayout {
    pub stack_top: u64,
    pub data_start: u64,
    pub data_end: u64,
}

impl GuestLayout {
    /// The layout of the memory-defining core module of `component`: the first mutable `i32`
    /// global's initial value (`__stack_pointer`) and the span of its active data segments.
    pub fn of(component: &[u8]) -> Option<GuestLayout> {
        use wasmparser::{DataKind, Operator, Parser, Payload};
        let const_i32 =
            |expr: &wasmparser::ConstExpr<'_>| match expr.get_operators_reader().read().ok()? {
                Operator::I32Const { value } => Some(u64::from(value as u32)),
                _ => None,
            };
        let mut best: Option<GuestLayout> = None;
        let mut current = GuestLayout::default();
        let mut defines_memory = false;
        for payload in Parser::new(0).parse_all(component) {
            match payload.ok()? {
                Payload::Version { .. } => {
                    current = GuestLayout::default();
                    defines_memory = false;
                }
                Payload::MemorySection(memories) => defines_memory = memories.count() > 0,
                Payload::GlobalSection(globals) => {
                    for global in globals.into_iter().flatten() {
                        if global.ty.mutable && current.stack_top == 0 {
                            current.stack_top = const_i32(&global.init_expr).unwrap_or(0);
                        }
                    }
                }
                Payload::DataSection(data) => {
                    current.data_start = u64::MAX;
                    for segment in data.into_iter().flatten() {
                        if let DataKind::Active { offset_expr, .. } = segment.kind {
                            let start = const_i32(&offset_expr)?;
                            current.data_start = current.data_start.min(start);
                            current.data_end =
                                current.data_end.max(start + segment.data.len() as u64);
                        }
                    }
                }
                Payload::End(_) if defines_memory && current.data_end > 0 => {
                    best.get_or_insert(current);
                }
                _ => {}
            }
        }
        best
    }

    fn region(&self, offset: u64) -> usize {
        if offset < self.stack_top && self.stack_top <= self.data_start {
            STACK
        } else if offset >= self.data_start && offset < self.data_end {
            DATA
        } else if offset >= self.data_end {
            HEAP
        } else {
            STACK
        }
    }
}

const STACK: usize = 0;
const DATA: usize = 1;
const HEAP: usize = 2;
/// Pages of the copy-on-write image only read, still the image's (shared) page.
const IMAGE: usize = 3;

/// Resident bytes by what they hold.
#[derive(Debug, Clone, Copy, Default)]
pub struct Resident {
    /// Linear memories' pages: the guest's stack, data (written: copied from the image),
    /// heap, and data only read (the image's own pages, mapped: counted in each instance's
    /// resident size, one copy in RAM).
    pub linear: [u64; 4],
    pub fiber_stacks: u64,
    pub tables: u64,
    /// The malloc heap, thread stacks and any other anonymous memory.
    pub heap_and_other: u64,
    /// Code and other file-backed mappings.
    pub files: u64,
}

impl Resident {
    pub fn total(&self) -> u64 {
        self.linear.iter().sum::<u64>()
            + self.fiber_stacks
            + self.tables
            + self.heap_and_other
            + self.files
    }

    /// `self - before`, per part (a part that shrank counts 0).
    pub fn minus(&self, before: &Resident) -> Resident {
        let d = |a: u64, b: u64| a.saturating_sub(b);
        Resident {
            linear: [0, 1, 2, 3].map(|i| d(self.linear[i], before.linear[i])),
            fiber_stacks: d(self.fiber_stacks, before.fiber_stacks),
            tables: d(self.tables, before.tables),
            heap_and_other: d(self.heap_and_other, before.heap_and_other),
            files: d(self.files, before.files),
        }
    }
}

#[derive(Debug)]
struct Mapping {
    start: u64,
    end: u64,
    readable: bool,
    writable: bool,
    /// Whether it has a name: a path, or `[heap]` and the like; none for anonymous memory.
    named: bool,
    /// A name in brackets: `[heap]`, `[stack]` and the like.
    bracketed: bool,
    rss: u64,
}

impl Mapping {
    fn len(&self) -> u64 {
        self.end - self.start
    }

    fn accessible(&self) -> bool {
        self.readable || self.writable
    }
}

/// This process's resident memory now, attributed (Linux; `None` elsewhere).
pub fn sample(layout: &GuestLayout) -> Option<Resident> {
    let maps = mappings()?;
    let mut resident = Resident::default();
    let mut counted = vec![false; maps.len()];

    // Runs of adjacent mappings.
    let mut runs = Vec::new();
    let mut first = 0;
    for i in 1..=maps.len() {
        if i == maps.len() || maps[i].start != maps[i - 1].end {
            runs.push(first..i);
            first = i;
        }
    }
    let mut pagemap = File::open("/proc/self/pagemap").ok()?;
    for run in &runs {
        // (guard page, stack) pairs in a row.
        let mut i = run.start;
        while i + 1 < run.end {
            let stack = maps[i + 1].len();
            let pairs = (i..run.end - 1)
                .step_by(2)
                .take_while(|&j| {
                    !maps[j].accessible()
                        && maps[j].len() == PAGE
                        && maps[j + 1].accessible()
                        && maps[j + 1].len() == stack
                })
                .count();
            if pairs >= STACK_POOL_PAIRS {
                for j in i..i + 2 * pairs {
                    resident.fiber_stacks += maps[j].rss;
                    counted[j] = true;
                }
                i += 2 * pairs;
            } else {
                i += 1;
            }
        }
        // The rest of a run this long is the linear memories' pool (the stack pool may lie
        // next to it).
        let span = maps[run.end - 1].end - maps[run.start].start;
        if span < MEMORY_POOL_SPAN {
            continue;
        }
        let mut slot_base = maps[run.start].start;
        for i in run.clone() {
            if counted[i] {
                continue;
            }
            let map = &maps[i];
            if map.accessible() && (i == run.start || !maps[i - 1].accessible()) {
                slot_base = map.start;
            }
            if map.accessible() && map.rss > 0 {
                let by_region = present_by_region(&mut pagemap, map, slot_base, layout)?;
                for (region, bytes) in by_region.into_iter().enumerate() {
                    resident.linear[region] += bytes;
                }
            }
            counted[i] = true;
        }
    }
    for (map, counted) in maps.iter().zip(counted) {
        if counted {
            continue;
        }
        if !map.named && map.writable && map.len() > TABLE_POOL_BYTES {
            resident.tables += map.rss;
        } else if !map.named || map.bracketed {
            resident.heap_and_other += map.rss;
        } else {
            resident.files += map.rss;
        }
    }
    Some(resident)
}

/// The present pages of `map`, a part of the linear memory starting at `slot_base`, by the
/// guest's region.
fn present_by_region(
    pagemap: &mut File,
    map: &Mapping,
    slot_base: u64,
    layout: &GuestLayout,
) -> Option<[u64; 4]> {
    let pages = map.len() / PAGE;
    let mut entries = vec![0u8; (pages * 8) as usize];
    pagemap.seek(SeekFrom::Start(map.start / PAGE * 8)).ok()?;
    pagemap.read_exact(&mut entries).ok()?;
    let mut by_region = [0u64; 4];
    for (n, entry) in entries.chunks_exact(8).enumerate() {
        let entry = u64::from_le_bytes(entry.try_into().ok()?);
        // Bit 63: present in RAM; bit 61: a file's page (the image's, not copied).
        if entry >> 63 == 1 {
            let offset = map.start + n as u64 * PAGE - slot_base;
            let region = match layout.region(offset) {
                DATA if (entry >> 61) & 1 == 1 => IMAGE,
                region => region,
            };
            by_region[region] += PAGE;
        }
    }
    Some(by_region)
}

/// `/proc/self/smaps` read line by line: a few small allocations, so that reading it hardly
/// changes the heap it measures (the file is megabytes long with the pools' mappings).
fn mappings() -> Option<Vec<Mapping>> {
    use std::io::BufRead;
    let mut smaps = std::io::BufReader::new(File::open("/proc/self/smaps").ok()?);
    let mut maps: Vec<Mapping> = Vec::with_capacity(4096);
    let mut line = String::with_capacity(256);
    loop {
        line.clear();
        if smaps.read_line(&mut line).ok()? == 0 {
            break;
        }
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else { continue };
        if let Some((start, end)) = first.split_once('-')
            && let (Ok(start), Ok(end)) =
                (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16))
        {
            let perms = fields.next()?.as_bytes();
            let name = fields.nth(3).unwrap_or_default();
            maps.push(Mapping {
                start,
                end,
                readable: perms.first() == Some(&b'r'),
                writable: perms.get(1) == Some(&b'w'),
                named: !name.is_empty(),
                bracketed: name.starts_with('['),
                rss: 0,
            });
        } else if first == "Rss:"
            && let Some(map) = maps.last_mut()
        {
            map.rss = fields.next()?.parse::<u64>().ok()? * 1024;
        }
    }
    Some(maps)
}
