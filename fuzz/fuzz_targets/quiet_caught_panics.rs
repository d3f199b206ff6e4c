//! libFuzzer aborts on every panic, but panics inside `netsession_scan::internals::guard::call`
//! (the nt-hive and ewf crates assert on some damaged input) are caught and become
//! warnings in the tool: they are not crashes. The same rule as the binary's panic hook.

use std::sync::Once;

pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let abort_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !netsession_scan::internals::guard::active() {
                abort_hook(info);
            }
        }));
    });
}
