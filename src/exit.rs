//! Exit codes: a contract for scripts (DESIGN §2).
//!
//! `health check` follows the Nagios plugin convention; every other command uses the general table.

/// Success. For `health check`: every critical component is healthy.
pub const SUCCESS: u8 = 0;
/// The operation failed.
pub const FAILURE: u8 = 1;
/// Usage or configuration error.
pub const USAGE: u8 = 2;
/// A backend was unreachable.
pub const UNREACHABLE: u8 = 3;
/// Integrity failure: checksum mismatch, validation failed, journal chain broken, data loss.
pub const INTEGRITY: u8 = 4;
/// The action was queued for operator approval (its id is printed).
pub const PENDING_APPROVAL: u8 = 5;
/// Refused by policy: cooldown, auto-recovery disabled, lock held by another process.
pub const REFUSED: u8 = 6;
/// Interrupted by a signal (Ctrl-C).
pub const INTERRUPTED: u8 = 130;

/// Nagios-convention codes used by `health check` (and `health watch --count`).
pub mod health {
    /// Every critical component is healthy.
    pub const HEALTHY: u8 = 0;
    /// At least one critical component is degraded, none unhealthy.
    pub const DEGRADED: u8 = 1;
    /// At least one critical component is unhealthy.
    pub const UNHEALTHY: u8 = 2;
    /// The status could not be determined, including bad flags or configuration.
    pub const UNKNOWN: u8 = 3;
}

/// The EXIT STATUS section shared by the long help of every command except `health check`.
pub const GENERAL_HELP: &str = "\
EXIT STATUS:
  0    success
  1    the operation failed
  2    usage or configuration error
  3    a backend was unreachable
  4    integrity failure (checksum mismatch, validation failed, journal chain broken, data loss)
  5    action queued for approval (its id is printed)
  6    refused by policy (cooldown, auto-recovery disabled, lock held by another process)
  130  interrupted";
