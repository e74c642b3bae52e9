//! The Rust imported guest for add: _start loops forever, asking the host for
//! two operands through add_request and handing back their sum through
//! add_response.
#![no_std]

#[link(wasm_import_module = "conduit")]
extern "C" {
    // the host writes the operands into guest memory at these addresses
    fn add_request(a: *mut i32, b: *mut i32);
    fn add_response(r: i32);
}

#[no_mangle]
pub extern "C" fn _start() {
    let (mut a, mut b) = (0i32, 0i32);
    loop {
        // SAFETY: the conduit writes one i32 through each pointer and keeps neither.
        unsafe {
            add_request(&mut a, &mut b);
            add_response(a.wrapping_add(b));
        }
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
