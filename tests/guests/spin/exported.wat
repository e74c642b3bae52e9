;; add and cube that spin forever in wasm when the first operand is 13.
(module
  (func $spin (loop $forever (br $forever)))
  (func (export "add") (param $a i32) (param $b i32) (result i32)
    (if (i32.eq (local.get $a) (i32.const 13)) (then (call $spin)))
    (i32.add (local.get $a) (local.get $b)))
  (func (export "cube") (param $a i32) (result i32)
    (if (i32.eq (local.get $a) (i32.const 13)) (then (call $spin)))
    (i32.mul (i32.mul (local.get $a) (local.get $a)) (local.get $a))))
