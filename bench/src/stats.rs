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

/// CPU time a process has used so far, split as `/proc/PID/stat` splits it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuTime {
    /// In the process's own code (and its libraries: SQLite, the runtime, the allocator).
    pub user: std::time::Duration,
    /// In the kernel on the process's behalf: its system calls (socket reads and writes, the
    /// log's writes and syncs, `epoll_wait`), and on loopback the receiving side's TCP work
    /// that a socket write runs in the writer's time.
    pub system: std::time::Duration,
}

impl CpuTime {
    pub fn total(self) -> std::time::Duration {
        self.user + self.system
    }

    /// The time used between `earlier` and this reading.
    pub fn since(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            user: self.user.saturating_sub(earlier.user),
            system: self.system.saturating_sub(earlier.system),
        }
    }
}

impl std::ops::Add for CpuTime {
    type Output = CpuTime;
    fn add(self, other: CpuTime) -> CpuTime {
        CpuTime {
            user: self.user + other.user,
            system: self.system + other.system,
        }
    }
}

impl std::iter::Sum for CpuTime {
    fn sum<I: Iterator<Item = CpuTime>>(iter: I) -> CpuTime {
        iter.fold(CpuTime::default(), |a, b| a + b)
    }
}

/// CPU time a process has used so far, from `/proc/PID/stat`.
pub fn cpu_time(pid: u32) -> Option<CpuTime> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

fn parse_stat(stat: &str) -> Option<CpuTime> {
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here. The kernel
    // reports them in USER_HZ, 100 on Linux.
    let ticks = |i: usize| -> Option<std::time::Duration> {
        let ticks: u64 = fields.get(i)?.parse().ok()?;
        Some(std::time::Duration::from_millis(ticks * 10))
    };
    Some(CpuTime {
        user: ticks(11)?,
        system: ticks(12)?,
    })
}

/// What a process has handed to `write` and `pwrite` so far (`wchar` and `syscw` in
/// /proc/PID/io): for the server, its storage writes — the SQLite log, checkpoints, uploads —
/// since its sockets write with `send`, which neither counts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Written {
    pub bytes: u64,
    /// Write system calls: the log's (SQLite writes a frame's header and its page separately),
    /// the checkpoints', and wakes of the runtime's I/O driver (an eventfd).
    pub calls: u64,
}

impl Written {
    pub fn since(self, earlier: Written) -> Written {
        Written {
            bytes: self.bytes.saturating_sub(earlier.bytes),
            calls: self.calls.saturating_sub(earlier.calls),
        }
    }
}

impl std::iter::Sum for Written {
    fn sum<I: Iterator<Item = Written>>(iter: I) -> Written {
        iter.fold(Written::default(), |a, b| Written {
            bytes: a.bytes + b.bytes,
            calls: a.calls + b.calls,
        })
    }
}

pub fn written(pid: u32) -> Option<Written> {
    parse_io(&std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?)
}

fn parse_io(io: &str) -> Option<Written> {
    let field = |name: &str| -> Option<u64> {
        io.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))?
            .trim()
            .parse()
            .ok()
    };
    Some(Written {
        bytes: field("wchar")?,
        calls: field("syscw")?,
    })
}

/// The CPU time of every process whose command name is one of `names` (all of PostgreSQL's
/// backends, say), read from /proc.
pub fn cpu_time_of(names: &[&str]) -> CpuTime {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return CpuTime::default();
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn cpu_time_splits_user_and_kernel_time_past_a_command_name_with_spaces_and_parens() {
        // A thread named like "tokio (rt) 1" shifts naive field splitting by two.
        let stat = "4242 (tokio (rt) 1) S 1 4242 4242 0 -1 4194560 1000 0 0 0 \
                    250 130 0 0 20 0 3 0 100 1000000 500 18446744073709551615";
        let cpu = parse_stat(stat).expect("parsed");
        assert_eq!(cpu.user, Duration::from_millis(2500));
        assert_eq!(cpu.system, Duration::from_millis(1300));
        assert_eq!(cpu.total(), Duration::from_millis(3800));
        let later = CpuTime {
            user: Duration::from_millis(3000),
            system: Duration::from_millis(1300),
        };
        assert_eq!(later.since(cpu).user, Duration::from_millis(500));
        assert_eq!(later.since(cpu).system, Duration::ZERO);
    }

    #[test]
    fn written_reads_bytes_and_write_calls_not_the_read_side() {
        let io = "rchar: 900\nwchar: 123456\nsyscr: 7\nsyscw: 89\n\
                  read_bytes: 0\nwrite_bytes: 4096\ncancelled_write_bytes: 0\n";
        let written = parse_io(io).expect("parsed");
        assert_eq!((written.bytes, written.calls), (123456, 89));
        assert!(parse_io("rchar: 1\n").is_none());
    }
}
