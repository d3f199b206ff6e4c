//! A safety net around third-party parsers that panic on malformed data.
//!
//! nt-hive 0.3.0 asserts instead of returning an error on some damaged structures (a
//! cell offset of 0xFFFFFFFF inside a subkey or value list, for example), and the ewf
//! crate indexes out of bounds on a forged chunk table. Evidence must never crash the
//! scan, so calls into them run under `catch_unwind`; a caught panic becomes a warning
//! and the rest of the input is still read. While a guarded call runs,
//! [`active`] is true, so the binary's panic hook can stay silent about panics that are
//! handled.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// True while the current thread is inside [`call`].
pub fn active() -> bool {
    DEPTH.with(|d| d.get() > 0)
}

/// Run `f`; a panic inside it becomes `Err` with the panic's message.
pub fn call<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    DEPTH.with(|d| d.set(d.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(f));
    DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "internal parser failure".to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_errors_and_the_flag_is_scoped() {
        assert!(!active());
        let r: Result<(), String> = call(|| {
            assert!(active());
            panic!("boom at 0x20")
        });
        assert_eq!(r.unwrap_err(), "boom at 0x20");
        assert!(!active());
        assert_eq!(call(|| 7).unwrap(), 7);
    }
}
