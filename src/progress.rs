//! Progress of long jobs: a bar on a terminal, plain lines otherwise (logs, CI, pipes).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// A progress report for one job of known size.
pub struct Progress {
    bar: Option<ProgressBar>,
    label: String,
    total: u64,
    done: u64,
    last_line: Instant,
    started: Instant,
}

impl Progress {
    /// A progress report of `total` units labelled `label`; `unit` names them in the plain lines.
    pub fn new(label: &str, total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            let style = ProgressStyle::with_template(
                "{msg:>12} [{bar:40}] {percent:>3}% {human_pos}/{human_len} {per_sec} ETA {eta}",
            )
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message(label.to_owned());
            bar
        });
        Self { bar, label: label.to_owned(), total, done: 0, last_line: Instant::now(), started: Instant::now() }
    }

    /// Sets the absolute position.
    pub fn set(&mut self, done: u64) {
        self.done = done.min(self.total);
        match &self.bar {
            Some(bar) => bar.set_position(self.done),
            None if self.last_line.elapsed() >= Duration::from_secs(2) => {
                self.last_line = Instant::now();
                eprintln!("{}: {}% ({}/{})", self.label, self.percent(), self.done, self.total);
            }
            None => {}
        }
    }

    /// Advances by `n`.
    pub fn inc(&mut self, n: u64) {
        self.set(self.done + n);
    }

    fn percent(&self) -> u64 {
        (self.done * 100).checked_div(self.total).unwrap_or(100)
    }

    /// Ends the report.
    pub fn finish(self) {
        match self.bar {
            Some(bar) => bar.finish_and_clear(),
            None => eprintln!("{}: done in {:.1} s", self.label, self.started.elapsed().as_secs_f64()),
        }
    }
}
