//! The memory allocator's settings for a long-lived function process.
//!
//! A password sign-in runs argon2id over 19 MiB (OWASP's parameters, [`crate::domain::password`]).
//! glibc serves a request that large with its own mapping the first time, but on freeing it raises
//! its mapping threshold to that size, so every later 19 MiB block comes from the heap, where
//! small allocations made meanwhile keep the freed space from being reused or returned. Measured
//! with `make bench-e2e`: `authorize` grew by about 16 MiB per sign-in (92.5 MiB after five),
//! which a 128 MB instance survives only a handful of times. Fixing the threshold keeps every
//! block of 128 KiB or more in a mapping of its own, returned to the system when freed (38 MiB at
//! most during a sign-in, whatever came before).

/// Mappings for every allocation from this size on (glibc's starting threshold).
pub const MMAP_THRESHOLD_BYTES: i32 = 128 * 1024;

/// Sets the allocator up for a function process; call once, first thing at init. Only glibc
/// moves its threshold; elsewhere this does nothing.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes glibc's malloc parameters; it is safe to call at any time.
    unsafe {
        // Setting the threshold explicitly also turns off glibc's dynamic adjustment of it.
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    /// Resident set size now, KiB.
    fn rss_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    #[test]
    fn a_freed_argon2_sized_block_goes_back_to_the_system_every_time() {
        tune();
        const BLOCK: usize = 19 * 1024 * 1024;
        let mut kept = Vec::new();
        let before = rss_kib();
        for round in 0..4 {
            let mut block = vec![0u8; BLOCK];
            // Touch every page, as argon2 does, so it is resident.
            for page in block.chunks_mut(4096) {
                page[0] = round as u8 + 1;
            }
            std::hint::black_box(&block);
            drop(block);
            // Small allocations between sign-ins (sessions, answers) that outlive the block.
            kept.push(vec![round as u8; 512]);
            let grown = rss_kib().saturating_sub(before);
            assert!(
                grown < 8 * 1024,
                "round {round}: {grown} KiB still resident after freeing the block"
            );
        }
        std::hint::black_box(kept);
    }
}
