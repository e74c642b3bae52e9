;; The smallest twin of the Go exported guest: add and cube as bare exports.
(module
  (func (export "add") (param $a i32) (param $b i32) (result i32)
    (i32.add (local.get $a) (local.get $b)))
  (func (export "cube") (param $a i32) (result i32)
    (i32.mul (i32.mul (local.get $a) (local.get $a)) (local.get $a))))
