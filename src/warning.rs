//! Warnings: damage and limits met while scanning. Never evidence rows.
//!
//! Each warning names the input and the location inside it, so an examiner can look at
//! the spot with another tool. The library collects them; the binary prints them.

use std::fmt;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The input as given on the command line (plus the volume, where there is one).
    pub input: String,
    /// Where inside the input: a path, an offset, a record number.
    pub location: String,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the evidence put into names or messages.
        let one_line = crate::evidence::escape_one_line;
        write!(
            f,
            "warning: {}: {}: {}",
            one_line(&self.input),
            one_line(&self.location),
            one_line(&self.message)
        )
    }
}

type Listener = Arc<dyn Fn(&Warning) + Send + Sync>;

/// Shared, thread-safe collection of warnings, with an optional listener that sees each
/// warning as it happens (the binary prints them at once, so a long scan shows damage early).
#[derive(Clone, Default)]
pub struct Warnings {
    inner: Arc<Mutex<Vec<Warning>>>,
    listener: Option<Listener>,
}

impl Warnings {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_listener(listener: impl Fn(&Warning) + Send + Sync + 'static) -> Self {
        Warnings {
            inner: Arc::default(),
            listener: Some(Arc::new(listener)),
        }
    }

    pub fn push(
        &self,
        input: impl Into<String>,
        location: impl Into<String>,
        message: impl Into<String>,
    ) {
        let warning = Warning {
            input: input.into(),
            location: location.into(),
            message: message.into(),
        };
        if let Some(listener) = &self.listener {
            listener(&warning);
        }
        // A poisoned lock only means another thread panicked while pushing; the list is
        // still a list, so keep collecting rather than lose warnings.
        let mut list = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        list.push(warning);
    }

    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many warnings so far name `input`.
    pub fn count_for(&self, input: &str) -> usize {
        let held = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        held.iter().filter(|w| w.input == input).count()
    }

    pub fn snapshot(&self) -> Vec<Warning> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl fmt::Debug for Warnings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.snapshot()).finish()
    }
}
