//! The Rust exported guest: the host calls add and cube directly through the
//! module's exports. No runtime to start, so no _initialize (unlike Go's reactor).
#![no_std]

#[no_mangle]
pub extern "C" fn add(a: i32, b: i32) -> i32 {
    // wasm's i32.add wraps; plain + would panic on overflow in a debug build
    a.wrapping_add(b)
}

#[no_mangle]
pub extern "C" fn cube(x: i32) -> i32 {
    x.wrapping_mul(x).wrapping_mul(x)
}

// no_std needs a panic handler even though wrapping arithmetic never panics;
// trapping keeps a bug loud instead of spinning.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
