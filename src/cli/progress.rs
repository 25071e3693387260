//! Progress bars for long work, on stderr, only on a terminal (never with `-q` or JSON).

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::snapshot::Progress;

pub struct Bars {
    enabled: bool,
    current: Mutex<Option<ProgressBar>>,
}

impl Bars {
    pub fn new(enabled: bool) -> Bars {
        Bars { enabled, current: Mutex::new(None) }
    }

    fn finish_current(&self) {
        if let Some(bar) = self.current.lock().expect("progress lock").take() {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Bars {
    fn on_stage(&self, stage: &str, total_rows: Option<u64>) {
        if !self.enabled {
            return;
        }
        self.finish_current();
        let bar = match total_rows {
            Some(total) => ProgressBar::new(total).with_style(
                ProgressStyle::with_template("{msg:28} {bar:30} {pos}/{len} rows  {per_sec}  eta {eta}")
                    .expect("the template is valid"),
            ),
            None => ProgressBar::new_spinner(),
        };
        bar.set_draw_target(ProgressDrawTarget::stderr());
        bar.set_message(stage.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        *self.current.lock().expect("progress lock") = Some(bar);
    }

    fn on_rows(&self, rows: u64) {
        if let Some(bar) = self.current.lock().expect("progress lock").as_ref() {
            bar.inc(rows);
        }
    }

    fn on_done(&self) {
        self.finish_current();
    }
}
