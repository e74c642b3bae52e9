//! The Rust imported guest for cube: _start loops forever, asking the host for
//! an operand through cube_request and handing back its cube through
//! cube_response.
#![no_std]

#[link(wasm_import_module = "conduit")]
extern "C" {
    fn cube_request() -> i32;
    fn cube_response(r: i32);
}

#[no_mangle]
pub extern "C" fn _start() {
    loop {
        // SAFETY: the conduit functions take and return plain values.
        unsafe {
            let a = cube_request();
            cube_response(a.wrapping_mul(a).wrapping_mul(a));
        }
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
