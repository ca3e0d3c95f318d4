//! One stats sample turned into the figures `docker stats` shows, computed
//! the way the docker CLI computes them (CPU against the host's CPU time
//! since the previous sample, memory without the inactive page cache).

use serde::Deserialize;

use crate::models::{
    ContainerBlkioStats, ContainerCpuStats, ContainerMemoryStats, ContainerStatsResponse,
};

/// What one sample says, as `docker stats` would print it. Byte counters
/// are totals since the container started; rates come from two samples.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// Percent of one CPU (200 means two CPUs busy), as `docker stats`.
    pub cpu_percent: f64,
    pub mem_used: u64,
    pub mem_limit: u64,
    pub mem_percent: f64,
    pub net_rx: u64,
    pub net_tx: u64,
    pub block_read: u64,
    pub block_write: u64,
    pub pids: u64,
}

impl Usage {
    pub fn of(s: &ContainerStatsResponse) -> Usage {
        let (mem_used, mem_limit) = memory(s.memory_stats.as_ref());
        let (net_rx, net_tx) = s.networks.as_ref().map_or((0, 0), |nets| {
            nets.values().fold((0, 0), |(rx, tx), n| {
                (rx + n.rx_bytes.unwrap_or(0), tx + n.tx_bytes.unwrap_or(0))
            })
        });
        let (block_read, block_write) = block_io(s.blkio_stats.as_ref());
        Usage {
            cpu_percent: cpu_percent(s.cpu_stats.as_ref(), s.precpu_stats.as_ref()),
            mem_used,
            mem_limit,
            mem_percent: if mem_limit == 0 {
                0.0
            } else {
                mem_used as f64 / mem_limit as f64 * 100.0
            },
            net_rx,
            net_tx,
            block_read,
            block_write,
            pids: s.pids_stats.as_ref().and_then(|p| p.current).unwrap_or(0),
        }
    }
}

/// A stats sample's CPU and memory, all the containers list shows: the
/// parts of [`ContainerStatsResponse`] they come from, decoded with the
/// same models, the rest of the sample skipped unread. (Its decoder is a
/// fraction of the whole sample's, and it is in the console's first
/// download.)
#[derive(Debug, Default, Deserialize)]
pub struct CpuMemory {
    pub cpu_stats: Option<ContainerCpuStats>,
    pub precpu_stats: Option<ContainerCpuStats>,
    pub memory_stats: Option<ContainerMemoryStats>,
}

impl CpuMemory {
    /// Percent of one CPU, as [`Usage::cpu_percent`].
    pub fn cpu_percent(&self) -> f64 {
        cpu_percent(self.cpu_stats.as_ref(), self.precpu_stats.as_ref())
    }

    /// Memory used, as [`Usage::mem_used`].
    pub fn mem_used(&self) -> u64 {
        memory(self.memory_stats.as_ref()).0
    }
}

/// Bytes per second between two counter readings `seconds` apart; a
/// counter that went down (a restart) counts as no traffic.
pub fn rate(before: u64, after: u64, seconds: f64) -> f64 {
    if seconds <= 0.0 {
        return 0.0;
    }
    after.saturating_sub(before) as f64 / seconds
}

fn cpu_percent(now: Option<&ContainerCpuStats>, before: Option<&ContainerCpuStats>) -> f64 {
    let (Some(now), Some(before)) = (now, before) else {
        return 0.0;
    };
    let total = |c: &ContainerCpuStats| c.cpu_usage.as_ref().and_then(|u| u.total_usage);
    let cpu_delta = total(now).unwrap_or(0) as f64 - total(before).unwrap_or(0) as f64;
    let system_delta =
        now.system_cpu_usage.unwrap_or(0) as f64 - before.system_cpu_usage.unwrap_or(0) as f64;
    let cpus = match now.online_cpus {
        Some(n) if n > 0 => f64::from(n),
        _ => now
            .cpu_usage
            .as_ref()
            .and_then(|u| u.percpu_usage.as_ref())
            .map_or(0, Vec::len) as f64,
    };
    if system_delta > 0.0 && cpu_delta > 0.0 {
        cpu_delta / system_delta * cpus * 100.0
    } else {
        0.0
    }
}

/// Usage minus the inactive page cache (`total_inactive_file` on cgroup
/// v1, `inactive_file` on v2), and the limit.
fn memory(m: Option<&ContainerMemoryStats>) -> (u64, u64) {
    let Some(m) = m else {
        return (0, 0);
    };
    let usage = m.usage.unwrap_or(0);
    let cache = m.stats.as_ref().and_then(|st| {
        st.get("total_inactive_file")
            .or_else(|| st.get("inactive_file"))
            .copied()
    });
    let used = match cache {
        Some(c) if c < usage => usage - c,
        _ => usage,
    };
    (used, m.limit.unwrap_or(0))
}

fn block_io(b: Option<&ContainerBlkioStats>) -> (u64, u64) {
    let entries = b.and_then(|b| b.io_service_bytes_recursive.as_ref());
    entries.map_or((0, 0), |entries| {
        entries.iter().fold((0, 0), |(r, w), e| {
            let v = e.value.unwrap_or(0);
            match e.op.as_deref().map(str::to_ascii_lowercase).as_deref() {
                Some("read") => (r + v, w),
                Some("write") => (r, w + v),
                _ => (r, w),
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(json: &str) -> ContainerStatsResponse {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn cpu_and_memory_as_docker_stats() {
        let s = sample(
            r#"{
            "cpu_stats":{"cpu_usage":{"total_usage":400000000},"system_cpu_usage":20000000000,"online_cpus":2},
            "precpu_stats":{"cpu_usage":{"total_usage":200000000},"system_cpu_usage":18000000000},
            "memory_stats":{"usage":10485760,"limit":104857600,"stats":{"total_inactive_file":2097152}},
            "networks":{"eth0":{"rx_bytes":100,"tx_bytes":50},"eth1":{"rx_bytes":1,"tx_bytes":2}},
            "blkio_stats":{"io_service_bytes_recursive":[{"op":"Read","value":4096},{"op":"Write","value":512},{"op":"read","value":4},{"op":"Total","value":9}]},
            "pids_stats":{"current":3}
        }"#,
        );
        let u = Usage::of(&s);
        // 0.2 s of CPU over 2 s of host CPU time on 2 CPUs: 20 %.
        assert!((u.cpu_percent - 20.0).abs() < 1e-9, "{}", u.cpu_percent);
        assert_eq!(
            (u.mem_used, u.mem_limit),
            (8 * 1024 * 1024, 100 * 1024 * 1024)
        );
        assert!((u.mem_percent - 8.0).abs() < 1e-9);
        assert_eq!((u.net_rx, u.net_tx), (101, 52));
        assert_eq!((u.block_read, u.block_write), (4100, 512));
        assert_eq!(u.pids, 3);
        // The list's reading of the same sample agrees.
        let brief: CpuMemory = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(brief.cpu_percent(), u.cpu_percent);
        assert_eq!(brief.mem_used(), u.mem_used);
    }

    #[test]
    fn cgroup_v2_cache_and_per_cpu_fallback() {
        let s = sample(
            r#"{
            "cpu_stats":{"cpu_usage":{"total_usage":300,"percpu_usage":[1,2,3,4]},"system_cpu_usage":1000},
            "precpu_stats":{"cpu_usage":{"total_usage":200},"system_cpu_usage":800},
            "memory_stats":{"usage":1000,"limit":0,"stats":{"inactive_file":4000}}
        }"#,
        );
        let u = Usage::of(&s);
        assert!((u.cpu_percent - 200.0).abs() < 1e-9);
        // Cache bigger than usage is not subtracted; no limit, no percent.
        assert_eq!((u.mem_used, u.mem_percent), (1000, 0.0));
    }

    #[test]
    fn first_sample_and_rates() {
        // The engine's first sample has an empty precpu: no CPU figure yet.
        let u = Usage::of(&sample(
            r#"{"cpu_stats":{"cpu_usage":{"total_usage":5},"system_cpu_usage":9},"precpu_stats":{}}"#,
        ));
        assert_eq!(u.cpu_percent, 0.0);
        assert_eq!(rate(100, 300, 2.0), 100.0);
        assert_eq!(rate(300, 100, 2.0), 0.0);
        assert_eq!(rate(1, 2, 0.0), 0.0);
    }
}
