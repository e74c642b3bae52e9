;; add and cube that sleep for an hour in WASI's poll_oneoff when the first operand is 13.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; one subscription at 256: userdata 0, tag 0 (clock), clock id 1 (monotonic),
  ;; timeout 3600 s in ns, relative; the event goes to 512, the event count to 600
  (func $sleep
    (i64.store (i32.const 256) (i64.const 0))
    (i32.store8 (i32.const 264) (i32.const 0))
    (i32.store (i32.const 272) (i32.const 1))
    (i64.store (i32.const 280) (i64.const 3600000000000))
    (i64.store (i32.const 288) (i64.const 0))
    (i32.store16 (i32.const 296) (i32.const 0))
    (drop (call $poll_oneoff (i32.const 256) (i32.const 512) (i32.const 1) (i32.const 600))))
  (func (export "add") (param $a i32) (param $b i32) (result i32)
    (if (i32.eq (local.get $a) (i32.const 13)) (then (call $sleep)))
    (i32.add (local.get $a) (local.get $b)))
  (func (export "cube") (param $a i32) (result i32)
    (if (i32.eq (local.get $a) (i32.const 13)) (then (call $sleep)))
    (i32.mul (i32.mul (local.get $a) (local.get $a)) (local.get $a))))
