;; Asks the conduit for work from its start function, before the host runs _start.
(module
  (import "conduit" "add_request" (func $req (param i32 i32)))
  (import "conduit" "add_response" (func $resp (param i32)))
  (memory (export "memory") 1)
  (func $early (call $req (i32.const 0) (i32.const 4)))
  (start $early)
  (func (export "_start")
    (loop $serve
      (call $req (i32.const 0) (i32.const 4))
      (call $resp (i32.add (i32.load (i32.const 0)) (i32.load (i32.const 4))))
      (br $serve))))
