;; Answers through the conduit from its start function, before any request.
(module
  (import "conduit" "cube_request" (func $req (result i32)))
  (import "conduit" "cube_response" (func $resp (param i32)))
  (memory (export "memory") 1)
  (func $early (call $resp (i32.const 8)))
  (start $early)
  (func (export "_start")
    (local $a i32)
    (loop $serve
      (local.set $a (call $req))
      (call $resp (i32.mul (i32.mul (local.get $a) (local.get $a)) (local.get $a)))
      (br $serve))))
