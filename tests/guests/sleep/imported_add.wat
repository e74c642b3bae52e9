;; The imported add loop, sleeping for an hour in WASI's poll_oneoff when the first operand
;; is 13.
(module
  (import "conduit" "add_request" (func $req (param i32 i32)))
  (import "conduit" "add_response" (func $resp (param i32)))
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
  (func (export "_start")
    (loop $serve
      (call $req (i32.const 0) (i32.const 4))
      (if (i32.eq (i32.load (i32.const 0)) (i32.const 13)) (then (call $sleep)))
      (call $resp (i32.add (i32.load (i32.const 0)) (i32.load (i32.const 4))))
      (br $serve))))
