//! Latency histograms (microseconds) and the report's formatting.

use hdrhistogram::Histogram;

#[derive(Debug, Clone)]
pub struct Latency(Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        // 1 µs .. 60 s at 3 significant digits.
        Self(
            Histogram::new_with_bounds(1, 60_000_000, 3).unwrap_or_else(|_| {
                Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant digits are valid"))
            }),
        )
    }
}

impl Latency {
    pub fn record(&mut self, micros: u64) {
        let _ = self.0.record(micros.clamp(1, 60_000_000));
    }

    pub fn merge(&mut self, other: &Latency) {
        let _ = self.0.add(&other.0);
    }

    /// `p50 1.2 ms · p90 … · p99 … · p99.9 … · max …`
    pub fn summary(&self) -> String {
        if self.0.is_empty() {
            return "no samples".into();
        }
        let ms = |us: u64| format!("{:.1} ms", us as f64 / 1000.0);
        format!(
            "p50 {} · p90 {} · p99 {} · p99.9 {} · max {}",
            ms(self.0.value_at_quantile(0.50)),
            ms(self.0.value_at_quantile(0.90)),
            ms(self.0.value_at_quantile(0.99)),
            ms(self.0.value_at_quantile(0.999)),
            ms(self.0.max()),
        )
    }

    /// The value at `quantile`, in milliseconds.
    pub fn ms_at(&self, quantile: f64) -> f64 {
        self.0.value_at_quantile(quantile) as f64 / 1000.0
    }

    pub fn max_ms(&self) -> f64 {
        self.0.max() as f64 / 1000.0
    }
}

/// CPU time (user + system) a process has used so far, from `/proc/PID/stat`.
pub fn cpu_time(pid: u32) -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel reports in USER_HZ, 100 on Linux.
    Some(std::time::Duration::from_millis(ticks * 10))
}

/// The bytes a process has handed to `write` and `pwrite` (`wchar` in /proc/PID/io): for the
/// server, its storage writes — the SQLite log, checkpoints, uploads — since its sockets
/// write with `send`, which this does not count.
pub fn written_bytes(pid: u32) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("wchar:"))?
        .trim()
        .parse()
        .ok()
}

/// The CPU time of every process whose command name is one of `names` (all of PostgreSQL's
/// backends, say), read from /proc.
pub fn cpu_time_of(names: &[&str]) -> std::time::Duration {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return std::time::Duration::ZERO;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| names.contains(&comm.trim()))
        })
        .filter_map(cpu_time)
        .sum()
}

pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
