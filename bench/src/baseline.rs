//! A recorded baseline of the server's work per message, and the check against it
//! (`chat --record FILE`, `chat --check FILE`; `scripts/perf-check.sh` runs them).
//!
//! CPU time per message is what an operator pays for, but on a shared 2-core machine it moves
//! by a tenth between runs; the bytes the server writes to files per message (the SQLite log
//! and checkpoints) move much less and still show a change in the storage work. Each is
//! compared as the median of the runs at the baseline's rate, against the recorded value plus
//! its own margin. The file is plain `key = value` lines, `#` for comments.

use std::path::Path;

/// What one run at the baseline's rate measured.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub cpu_us_per_msg: f64,
    pub written_kib_per_msg: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// The message rate the baseline was recorded at (runs at other rates are not compared).
    pub rate: u32,
    pub cpu_us_per_msg: f64,
    pub written_kib_per_msg: f64,
    /// How far above the baseline a median may be, as a fraction (0.15: 15%).
    pub cpu_margin: f64,
    pub written_margin: f64,
}

/// Margins for a newly recorded baseline: the spread seen between runs on this machine, with
/// room to spare (README, Performance).
const CPU_MARGIN: f64 = 0.15;
const WRITTEN_MARGIN: f64 = 0.10;

impl Baseline {
    /// A baseline from the median of `samples` taken at `rate`.
    pub fn record(rate: u32, samples: &[Sample]) -> anyhow::Result<Baseline> {
        let median = median(samples)?;
        Ok(Baseline {
            rate,
            cpu_us_per_msg: median.cpu_us_per_msg,
            written_kib_per_msg: median.written_kib_per_msg,
            cpu_margin: CPU_MARGIN,
            written_margin: WRITTEN_MARGIN,
        })
    }

    pub fn read(path: &Path) -> anyhow::Result<Baseline> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        Baseline::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    pub fn write(&self, path: &Path, about: &str) -> anyhow::Result<()> {
        std::fs::write(path, self.render(about))?;
        Ok(())
    }

    fn parse(text: &str) -> anyhow::Result<Baseline> {
        let value = |key: &str| -> anyhow::Result<f64> {
            text.lines()
                .map(str::trim)
                .filter(|line| !line.starts_with('#'))
                .filter_map(|line| line.split_once('='))
                .find(|(k, _)| k.trim() == key)
                .ok_or_else(|| anyhow::anyhow!("no `{key} = …` line"))?
                .1
                .trim()
                .parse::<f64>()
                .map_err(|e| anyhow::anyhow!("{key}: {e}"))
        };
        Ok(Baseline {
            rate: value("rate")? as u32,
            cpu_us_per_msg: value("server_cpu_us_per_msg")?,
            written_kib_per_msg: value("written_kib_per_msg")?,
            cpu_margin: value("cpu_margin")?,
            written_margin: value("written_margin")?,
        })
    }

    fn render(&self, about: &str) -> String {
        let mut out = String::new();
        for line in about.lines() {
            out.push_str(&format!("# {line}\n"));
        }
        out.push_str(&format!(
            "rate = {}\nserver_cpu_us_per_msg = {:.1}\nwritten_kib_per_msg = {:.2}\n\
             cpu_margin = {}\nwritten_margin = {}\n",
            self.rate,
            self.cpu_us_per_msg,
            self.written_kib_per_msg,
            self.cpu_margin,
            self.written_margin
        ));
        out
    }

    /// Every way the median of `samples` is worse than the baseline allows (empty: none).
    pub fn check(&self, samples: &[Sample]) -> anyhow::Result<Vec<String>> {
        let median = median(samples)?;
        let mut regressions = Vec::new();
        let mut compare = |what: &str, measured: f64, recorded: f64, margin: f64| {
            let allowed = recorded * (1.0 + margin);
            let verdict = if measured > allowed {
                "REGRESSION"
            } else {
                "ok"
            };
            let line = format!(
                "{what}: median {measured:.2} against a baseline of {recorded:.2} (at most {allowed:.2}): {verdict}"
            );
            println!("{line}");
            if measured > allowed {
                regressions.push(line);
            }
        };
        compare(
            "server CPU µs per message",
            median.cpu_us_per_msg,
            self.cpu_us_per_msg,
            self.cpu_margin,
        );
        compare(
            "KiB written per message",
            median.written_kib_per_msg,
            self.written_kib_per_msg,
            self.written_margin,
        );
        Ok(regressions)
    }
}

/// The median of each figure of `samples`, each on its own.
fn median(samples: &[Sample]) -> anyhow::Result<Sample> {
    if samples.is_empty() {
        anyhow::bail!("no run at the baseline's rate");
    }
    let of = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    Ok(Sample {
        cpu_us_per_msg: of(samples.iter().map(|s| s.cpu_us_per_msg).collect()),
        written_kib_per_msg: of(samples.iter().map(|s| s.written_kib_per_msg).collect()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(cpu: f64, written: f64) -> Sample {
        Sample {
            cpu_us_per_msg: cpu,
            written_kib_per_msg: written,
        }
    }

    #[test]
    fn a_recorded_baseline_reads_back_the_same() {
        let baseline =
            Baseline::record(6000, &[sample(90.0, 15.0), sample(100.0, 16.0)]).expect("record");
        let text = baseline.render("recorded by a test\non some machine");
        assert!(text.starts_with("# recorded by a test\n# on some machine\n"));
        assert_eq!(Baseline::parse(&text).expect("parse"), baseline);
    }

    #[test]
    fn the_median_is_checked_against_the_baseline_and_its_margin() {
        let baseline = Baseline {
            rate: 6000,
            cpu_us_per_msg: 100.0,
            written_kib_per_msg: 10.0,
            cpu_margin: 0.15,
            written_margin: 0.10,
        };
        // One slow run among three is noise: the median is within the margin.
        let noisy = [
            sample(100.0, 10.0),
            sample(150.0, 10.5),
            sample(110.0, 10.2),
        ];
        assert!(baseline.check(&noisy).expect("check").is_empty());
        // More work per message in most runs is a regression, of each figure on its own.
        let slower = [sample(120.0, 10.0), sample(118.0, 10.0), sample(90.0, 10.0)];
        let found = baseline.check(&slower).expect("check");
        assert_eq!(found.len(), 1);
        assert!(found[0].starts_with("server CPU"), "{found:?}");
        let heavier = [sample(100.0, 11.5), sample(100.0, 11.2), sample(100.0, 9.0)];
        let found = baseline.check(&heavier).expect("check");
        assert_eq!(found.len(), 1);
        assert!(found[0].starts_with("KiB written"), "{found:?}");
        assert!(baseline.check(&[]).is_err(), "no runs cannot pass");
    }
}
