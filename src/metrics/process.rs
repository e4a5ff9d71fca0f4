//! Process metrics from `/proc` (Linux): resident memory, open file descriptors, CPU seconds
//! and start time, with the standard `process_*` names. Elsewhere nothing is written.

use super::write_single;

/// Kernel clock ticks per second (`USER_HZ`), 100 on every Linux ABI in use.
const TICKS_PER_SECOND: f64 = 100.0;

fn status_kib(status: &str, key: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// Fields of `/proc/self/stat` after the command name, which may contain spaces.
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().collect())
}

fn boot_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

/// Appends the process metrics that can be read.
pub fn render(out: &mut String) {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        if let Some(kib) = status_kib(&status, "VmRSS:") {
            write_single(
                out,
                "process_resident_memory_bytes",
                "gauge",
                "Resident memory size in bytes.",
                kib * 1024.0,
            );
        }
        if let Some(kib) = status_kib(&status, "VmSize:") {
            write_single(
                out,
                "process_virtual_memory_bytes",
                "gauge",
                "Virtual memory size in bytes.",
                kib * 1024.0,
            );
        }
    }
    if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
        write_single(
            out,
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            entries.count() as f64,
        );
    }
    if let Ok(limits) = std::fs::read_to_string("/proc/self/limits")
        && let Some(max) = limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .and_then(|l| l["Max open files".len()..].split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
    {
        write_single(
            out,
            "process_max_fds",
            "gauge",
            "Maximum number of open file descriptors.",
            max,
        );
    }
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return;
    };
    let Some(fields) = stat_fields(&stat) else {
        return;
    };
    // After the command name, field 3 (state) is index 0: utime is field 14, stime 15,
    // starttime 22.
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<f64>().ok());
    if let (Some(user), Some(system)) = (field(14), field(15)) {
        write_single(
            out,
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
            (user + system) / TICKS_PER_SECOND,
        );
    }
    if let (Some(start), Some(boot)) = (field(22), boot_time()) {
        write_single(
            out,
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since the Unix epoch in seconds.",
            boot + start / TICKS_PER_SECOND,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_formats() {
        assert_eq!(
            status_kib("Name:\tx\nVmRSS:\t  1234 kB\n", "VmRSS:"),
            Some(1234.0)
        );
        let fields = stat_fields("42 (a b) c) S 1 2 3").unwrap();
        assert_eq!(fields, vec!["S", "1", "2", "3"]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn renders_on_linux() {
        let mut out = String::new();
        render(&mut out);
        for name in [
            "process_resident_memory_bytes",
            "process_open_fds",
            "process_cpu_seconds_total",
            "process_start_time_seconds",
        ] {
            assert!(out.contains(&format!("\n{name} ")), "{name} in {out}");
        }
    }
}
