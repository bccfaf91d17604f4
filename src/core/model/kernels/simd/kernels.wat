;; The project's wasm SIMD kernels, written by hand. They run on tfjs-backend-wasm's own memory (imported), with byte
;; offsets of its tensors, so no data is copied in or out. Build: `npm run build:simd` (writes kernelsWasm.ts);
;; simd.test.ts checks that kernelsWasm.ts is this file's build.
(module
  (import "env" "memory" (memory 1))
  ;; out[i, c] = (probs[i, c] * valid[i] - [c = classes[i]]) * dy[i], float32, `count` classes per pixel.
  (func (export "crossEntropyGrad") (param $probs i32) (param $classes i32) (param $valid i32) (param $dy i32)
        (param $out i32) (param $pixels i32) (param $count i32)
    (local $i i32) (local $c i32) (local $k i32) (local $v f32) (local $d f32) (local $vv v128) (local $dd v128)
    (local $row i32) (local $vecEnd i32)
    (local.set $row (i32.shl (local.get $count) (i32.const 2)))
    (local.set $vecEnd (i32.and (local.get $count) (i32.const -4)))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $i) (local.get $pixels)))
        (local.set $v (f32.load (i32.add (local.get $valid) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $d (f32.load (i32.add (local.get $dy) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $vv (f32x4.splat (local.get $v)))
        (local.set $dd (f32x4.splat (local.get $d)))
        (local.set $c (i32.const 0))
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.ge_u (local.get $c) (local.get $vecEnd)))
            (v128.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2)))
              (f32x4.mul (f32x4.mul (v128.load (i32.add (local.get $probs) (i32.shl (local.get $c) (i32.const 2)))) (local.get $vv)) (local.get $dd)))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $vec)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $c) (local.get $count)))
            (f32.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2)))
              (f32.mul (f32.mul (f32.load (i32.add (local.get $probs) (i32.shl (local.get $c) (i32.const 2)))) (local.get $v)) (local.get $d)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $tail)))
        (local.set $k (i32.load (i32.add (local.get $classes) (i32.shl (local.get $i) (i32.const 2)))))
        (if (i32.lt_u (local.get $k) (local.get $count))
          (then
            (f32.store (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 2)))
              (f32.mul (f32.sub (f32.mul (f32.load (i32.add (local.get $probs) (i32.shl (local.get $k) (i32.const 2)))) (local.get $v)) (f32.const 1)) (local.get $d)))))
        (local.set $probs (i32.add (local.get $probs) (local.get $row)))
        (local.set $out (i32.add (local.get $out) (local.get $row)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $pixel)))))
