//! Progress reporting from the scan to whoever shows it (the binary draws a bar on a
//! terminal). The library only says what it is doing and how far it got.

/// Receives the scan's progress. Called from several threads.
pub trait Progress: Send + Sync {
    /// A new stage begins: what is being done and, when known, how many units it has.
    fn stage(&self, what: &str, total: Option<u64>);
    /// A new stage counted in bytes (a display may show them as sizes).
    fn stage_bytes(&self, what: &str, total: Option<u64>) {
        self.stage(what, total);
    }
    /// `units` more of the current stage are done.
    fn advance(&self, units: u64);
}

/// No progress shown.
pub struct Silent;

impl Progress for Silent {
    fn stage(&self, _what: &str, _total: Option<u64>) {}
    fn advance(&self, _units: u64) {}
}
