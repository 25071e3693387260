//! Tables for people, with comfy-table; plain (no box drawing, no colour) when not on a terminal.

use comfy_table::presets::{NOTHING, UTF8_FULL_CONDENSED};
use comfy_table::{ContentArrangement, Table};

pub fn new_table(headers: &[&str], tty: bool) -> Table {
    let mut table = Table::new();
    table.load_style(if tty { UTF8_FULL_CONDENSED } else { NOTHING });
    // Piped, rows stay whole lines (for grep and awk); on a terminal, long cells wrap to fit.
    table.set_content_arrangement(if tty { ContentArrangement::Dynamic } else { ContentArrangement::Disabled });
    table.set_header(headers.iter().copied());
    if !tty {
        // No terminal width to fit, no styling unless the caller enforces it (--color always).
        table.force_no_tty();
    } else if table.width().is_none_or(|w| w < 60) {
        // A terminal that reports no size (a bare pty, a serial console) would squeeze every column.
        table.set_width(120);
    }
    table
}
