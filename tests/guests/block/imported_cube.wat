;; The imported cube loop, asking for a new request instead of answering when the operand
;; is 13.
(module
  (import "conduit" "cube_request" (func $req (result i32)))
  (import "conduit" "cube_response" (func $resp (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $a i32)
    (loop $serve
      (local.set $a (call $req))
      (if (i32.ne (local.get $a) (i32.const 13))
        (then (call $resp (i32.mul (i32.mul (local.get $a) (local.get $a)) (local.get $a)))))
      (br $serve))))
