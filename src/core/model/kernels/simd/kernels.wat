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
        (br $pixel))))

  ;; Batch norm (batchNormTraining.ts), channels last with c channels, c a multiple of 4. Each loop runs channel pair
  ;; by channel pair over the pixels in order, in float64 lanes where the JavaScript loops compute in float64, so
  ;; every sum is the same sum in the same order.

  ;; out (f64, 2c): out[k] = sum over pixels of x[i, k], out[c + k] = sum of x[i, k]^2.
  (func (export "bnSums") (param $x i32) (param $pixels i32) (param $c i32) (param $out i32)
    (local $k i32) (local $i i32) (local $p i32) (local $stride i32) (local $v v128) (local $sum v128) (local $sq v128)
    (local.set $stride (i32.shl (local.get $c) (i32.const 2)))
    (block $channelsDone
      (loop $channels
        (br_if $channelsDone (i32.ge_u (local.get $k) (local.get $c)))
        (local.set $sum (v128.const i64x2 0 0))
        (local.set $sq (v128.const i64x2 0 0))
        (local.set $p (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $i (i32.const 0))
        (block $pixelsDone
          (loop $pixels
            (br_if $pixelsDone (i32.ge_u (local.get $i) (local.get $pixels)))
            (local.set $v (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p))))
            (local.set $sum (f64x2.add (local.get $sum) (local.get $v)))
            (local.set $sq (f64x2.add (local.get $sq) (f64x2.mul (local.get $v) (local.get $v))))
            (local.set $p (i32.add (local.get $p) (local.get $stride)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $pixels)))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 3))) (local.get $sum))
        (v128.store (i32.add (local.get $out) (i32.shl (i32.add (local.get $c) (local.get $k)) (i32.const 3))) (local.get $sq))
        (local.set $k (i32.add (local.get $k) (i32.const 2)))
        (br $channels))))

  ;; y[i, k] = min(hi, max(lo, x[i, k] * alpha[k] + beta[k])) in float32; ab (f32, 2c): alpha, then beta.
  (func (export "bnNormalize") (param $x i32) (param $y i32) (param $ab i32) (param $pixels i32) (param $c i32)
        (param $lo f32) (param $hi f32)
    (local $k i32) (local $end i32) (local $lov v128) (local $hiv v128) (local $kb i32)
    (local.set $lov (f32x4.splat (local.get $lo)))
    (local.set $hiv (f32x4.splat (local.get $hi)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.mul (local.get $pixels) (local.get $c)) (i32.const 2))))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $k (i32.const 0))
        (block $channelsDone
          (loop $channels
            (br_if $channelsDone (i32.ge_u (local.get $k) (local.get $c)))
            (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
            (v128.store (i32.add (local.get $y) (local.get $kb))
              (f32x4.min (local.get $hiv) (f32x4.max (local.get $lov)
                (f32x4.add
                  (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $kb))) (v128.load (i32.add (local.get $ab) (local.get $kb))))
                  (v128.load (i32.add (local.get $ab) (i32.shl (i32.add (local.get $c) (local.get $k)) (i32.const 2))))))))
            (local.set $k (i32.add (local.get $k) (i32.const 4)))
            (br $channels)))
        (local.set $x (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 2))))
        (local.set $y (i32.add (local.get $y) (i32.shl (local.get $c) (i32.const 2))))
        (br $pixel))))

  ;; The backward pass's first loop: g = dy where the activation passed (lo < x * alpha + beta <= hi, in float32; all
  ;; of dy when gated is 0), written to dx, and out (f64, 2c): out[k] = sum of g, out[c + k] = sum of g * (x - mean[k]).
  (func (export "bnGradSums") (param $dy i32) (param $x i32) (param $dx i32) (param $ab i32) (param $mean i32)
        (param $pixels i32) (param $c i32) (param $lo f32) (param $hi f32) (param $gated i32) (param $out i32)
    (local $k i32) (local $i i32) (local $off i32) (local $stride i32) (local $a v128) (local $b v128) (local $m v128)
    (local $xv v128) (local $g v128) (local $z v128) (local $lov v128) (local $hiv v128) (local $sumG v128) (local $sumGx v128)
    (local $g64 v128)
    (local.set $stride (i32.shl (local.get $c) (i32.const 2)))
    (local.set $lov (f32x4.splat (local.get $lo)))
    (local.set $hiv (f32x4.splat (local.get $hi)))
    (block $channelsDone
      (loop $channels
        (br_if $channelsDone (i32.ge_u (local.get $k) (local.get $c)))
        (local.set $a (v128.load64_zero (i32.add (local.get $ab) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $b (v128.load64_zero (i32.add (local.get $ab) (i32.shl (i32.add (local.get $c) (local.get $k)) (i32.const 2)))))
        (local.set $m (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $mean) (i32.shl (local.get $k) (i32.const 2))))))
        (local.set $sumG (v128.const i64x2 0 0))
        (local.set $sumGx (v128.const i64x2 0 0))
        (local.set $off (i32.shl (local.get $k) (i32.const 2)))
        (local.set $i (i32.const 0))
        (block $pixelsDone
          (loop $pixels
            (br_if $pixelsDone (i32.ge_u (local.get $i) (local.get $pixels)))
            (local.set $xv (v128.load64_zero (i32.add (local.get $x) (local.get $off))))
            (local.set $g (v128.load64_zero (i32.add (local.get $dy) (local.get $off))))
            (if (local.get $gated)
              (then
                (local.set $z (f32x4.add (f32x4.mul (local.get $xv) (local.get $a)) (local.get $b)))
                (local.set $g (v128.and (local.get $g)
                  (v128.and (f32x4.gt (local.get $z) (local.get $lov)) (f32x4.le (local.get $z) (local.get $hiv)))))))
            (v128.store64_lane 0 (i32.add (local.get $dx) (local.get $off)) (local.get $g))
            (local.set $g64 (f64x2.promote_low_f32x4 (local.get $g)))
            (local.set $sumG (f64x2.add (local.get $sumG) (local.get $g64)))
            (local.set $sumGx (f64x2.add (local.get $sumGx)
              (f64x2.mul (local.get $g64) (f64x2.sub (f64x2.promote_low_f32x4 (local.get $xv)) (local.get $m)))))
            (local.set $off (i32.add (local.get $off) (local.get $stride)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $pixels)))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 3))) (local.get $sumG))
        (v128.store (i32.add (local.get $out) (i32.shl (i32.add (local.get $c) (local.get $k)) (i32.const 3))) (local.get $sumGx))
        (local.set $k (i32.add (local.get $k) (i32.const 2)))
        (br $channels))))

  ;; The backward pass's second loop, in float64: dx = slope * (dx - meanG - (x - mean) * rstd * meanGxhat), stored as
  ;; float32; st (f64, 5c): mean, rstd, slope, meanG, meanGxhat per channel.
  (func (export "bnGradApply") (param $x i32) (param $dx i32) (param $st i32) (param $pixels i32) (param $c i32)
        (local $k i32) (local $i i32) (local $off i32) (local $stride i32) (local $c8 i32) (local $q i32)
        (local $m v128) (local $r v128) (local $slope v128) (local $mg v128) (local $mgx v128) (local $xhat v128)
    (local.set $stride (i32.shl (local.get $c) (i32.const 2)))
    (local.set $c8 (i32.shl (local.get $c) (i32.const 3)))
    (block $channelsDone
      (loop $channels
        (br_if $channelsDone (i32.ge_u (local.get $k) (local.get $c)))
        (local.set $q (i32.add (local.get $st) (i32.shl (local.get $k) (i32.const 3))))
        (local.set $m (v128.load (local.get $q)))
        (local.set $r (v128.load (i32.add (local.get $q) (local.get $c8))))
        (local.set $slope (v128.load (i32.add (local.get $q) (i32.shl (local.get $c8) (i32.const 1)))))
        (local.set $mg (v128.load (i32.add (local.get $q) (i32.mul (local.get $c8) (i32.const 3)))))
        (local.set $mgx (v128.load (i32.add (local.get $q) (i32.shl (local.get $c8) (i32.const 2)))))
        (local.set $off (i32.shl (local.get $k) (i32.const 2)))
        (local.set $i (i32.const 0))
        (block $pixelsDone
          (loop $pixels
            (br_if $pixelsDone (i32.ge_u (local.get $i) (local.get $pixels)))
            (local.set $xhat (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $x) (local.get $off)))) (local.get $m)) (local.get $r)))
            (v128.store64_lane 0 (i32.add (local.get $dx) (local.get $off))
              (f32x4.demote_f64x2_zero (f64x2.mul (local.get $slope)
                (f64x2.sub
                  (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $dx) (local.get $off)))) (local.get $mg))
                  (f64x2.mul (local.get $xhat) (local.get $mgx))))))
            (local.set $off (i32.add (local.get $off) (local.get $stride)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $pixels)))
        (local.set $k (i32.add (local.get $k) (i32.const 2)))
        (br $channels))))

  ;; ResizeBilinearGrad (resizeBilinearGrad.ts), NHWC: every dy pixel adds g * weight to its four source pixels, in
  ;; the order of resizeBilinearGradInto and in float64 as it computes (g * weight, then + out, rounded to float32 on
  ;; store), two channels per lane pair. out must be zero. taps: rows' frac (f64, outH), columns' frac (f64, outW),
  ;; then rows' lo, rows' hi (i32, outH), columns' lo, columns' hi (i32, outW).
  (func (export "resizeBilinearGrad") (param $dy i32) (param $out i32) (param $taps i32) (param $batch i32)
        (param $inH i32) (param $inW i32) (param $outH i32) (param $outW i32) (param $depth i32)
    (local $b i32) (local $r i32) (local $c i32) (local $d i32) (local $rowStride i32) (local $bOff i32)
    (local $colFrac i32) (local $rowLo i32) (local $rowHi i32) (local $colLo i32) (local $colHi i32)
    (local $top i32) (local $bottom i32) (local $left i32) (local $right i32) (local $rf f64) (local $cf f64)
    (local $tl f64) (local $tr f64) (local $bl f64) (local $br f64) (local $g v128) (local $gs f64) (local $pairs i32)
    (local $i00 i32) (local $i01 i32) (local $i10 i32) (local $i11 i32) (local $p i32)
    (local.set $rowStride (i32.mul (local.get $inW) (local.get $depth)))
    (local.set $colFrac (i32.add (local.get $taps) (i32.shl (local.get $outH) (i32.const 3))))
    (local.set $rowLo (i32.add (local.get $colFrac) (i32.shl (local.get $outW) (i32.const 3))))
    (local.set $rowHi (i32.add (local.get $rowLo) (i32.shl (local.get $outH) (i32.const 2))))
    (local.set $colLo (i32.add (local.get $rowHi) (i32.shl (local.get $outH) (i32.const 2))))
    (local.set $colHi (i32.add (local.get $colLo) (i32.shl (local.get $outW) (i32.const 2))))
    (local.set $pairs (i32.and (local.get $depth) (i32.const -2)))
    (block $batchDone
      (loop $batchLoop
        (br_if $batchDone (i32.ge_u (local.get $b) (local.get $batch)))
        (local.set $bOff (i32.mul (i32.mul (local.get $b) (local.get $inH)) (local.get $rowStride)))
        (local.set $r (i32.const 0))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $outH)))
            (local.set $top (i32.add (local.get $bOff) (i32.mul (i32.load (i32.add (local.get $rowLo) (i32.shl (local.get $r) (i32.const 2)))) (local.get $rowStride))))
            (local.set $bottom (i32.add (local.get $bOff) (i32.mul (i32.load (i32.add (local.get $rowHi) (i32.shl (local.get $r) (i32.const 2)))) (local.get $rowStride))))
            (local.set $rf (f64.load (i32.add (local.get $taps) (i32.shl (local.get $r) (i32.const 3)))))
            (local.set $c (i32.const 0))
            (block $colsDone
              (loop $cols
                (br_if $colsDone (i32.ge_u (local.get $c) (local.get $outW)))
                (local.set $cf (f64.load (i32.add (local.get $colFrac) (i32.shl (local.get $c) (i32.const 3)))))
                (local.set $left (i32.mul (i32.load (i32.add (local.get $colLo) (i32.shl (local.get $c) (i32.const 2)))) (local.get $depth)))
                (local.set $right (i32.mul (i32.load (i32.add (local.get $colHi) (i32.shl (local.get $c) (i32.const 2)))) (local.get $depth)))
                (local.set $tl (f64.mul (f64.sub (f64.const 1) (local.get $rf)) (f64.sub (f64.const 1) (local.get $cf))))
                (local.set $tr (f64.mul (f64.sub (f64.const 1) (local.get $rf)) (local.get $cf)))
                (local.set $bl (f64.mul (local.get $rf) (f64.sub (f64.const 1) (local.get $cf))))
                (local.set $br (f64.mul (local.get $rf) (local.get $cf)))
                ;; byte addresses of the four corners' channel 0
                (local.set $i00 (i32.add (local.get $out) (i32.shl (i32.add (local.get $top) (local.get $left)) (i32.const 2))))
                (local.set $i01 (i32.add (local.get $out) (i32.shl (i32.add (local.get $top) (local.get $right)) (i32.const 2))))
                (local.set $i10 (i32.add (local.get $out) (i32.shl (i32.add (local.get $bottom) (local.get $left)) (i32.const 2))))
                (local.set $i11 (i32.add (local.get $out) (i32.shl (i32.add (local.get $bottom) (local.get $right)) (i32.const 2))))
                (local.set $d (i32.const 0))
                (block $pairsDone
                  (loop $pairLoop
                    (br_if $pairsDone (i32.ge_u (local.get $d) (local.get $pairs)))
                    (local.set $g (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $dy))))
                    (local.set $p (i32.add (local.get $i00) (i32.shl (local.get $d) (i32.const 2))))
                    (v128.store64_lane 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.add
                      (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p))) (f64x2.mul (local.get $g) (f64x2.splat (local.get $tl))))))
                    (local.set $p (i32.add (local.get $i01) (i32.shl (local.get $d) (i32.const 2))))
                    (v128.store64_lane 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.add
                      (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p))) (f64x2.mul (local.get $g) (f64x2.splat (local.get $tr))))))
                    (local.set $p (i32.add (local.get $i10) (i32.shl (local.get $d) (i32.const 2))))
                    (v128.store64_lane 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.add
                      (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p))) (f64x2.mul (local.get $g) (f64x2.splat (local.get $bl))))))
                    (local.set $p (i32.add (local.get $i11) (i32.shl (local.get $d) (i32.const 2))))
                    (v128.store64_lane 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.add
                      (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p))) (f64x2.mul (local.get $g) (f64x2.splat (local.get $br))))))
                    (local.set $dy (i32.add (local.get $dy) (i32.const 8)))
                    (local.set $d (i32.add (local.get $d) (i32.const 2)))
                    (br $pairLoop)))
                (if (i32.lt_u (local.get $d) (local.get $depth))
                  (then
                    (local.set $gs (f64.promote_f32 (f32.load (local.get $dy))))
                    (local.set $p (i32.add (local.get $i00) (i32.shl (local.get $d) (i32.const 2))))
                    (f32.store (local.get $p) (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (local.get $p))) (f64.mul (local.get $gs) (local.get $tl)))))
                    (local.set $p (i32.add (local.get $i01) (i32.shl (local.get $d) (i32.const 2))))
                    (f32.store (local.get $p) (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (local.get $p))) (f64.mul (local.get $gs) (local.get $tr)))))
                    (local.set $p (i32.add (local.get $i10) (i32.shl (local.get $d) (i32.const 2))))
                    (f32.store (local.get $p) (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (local.get $p))) (f64.mul (local.get $gs) (local.get $bl)))))
                    (local.set $p (i32.add (local.get $i11) (i32.shl (local.get $d) (i32.const 2))))
                    (f32.store (local.get $p) (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (local.get $p))) (f64.mul (local.get $gs) (local.get $br)))))
                    (local.set $dy (i32.add (local.get $dy) (i32.const 4)))))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $cols)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rows)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $batchLoop))))

  ;; ResizeBilinearGrad with halfPixelCenters false, computing what tfjs-backend-wasm's own kernel computes (and so
  ;; the same bits): with val = dy, rl and cl the row and column fractions (float32 values) and out float32,
  ;;   out00 += (val * (1 - rl)) * (1 - cl)   in float64;   out01 += (val * (1 - rl)) * cl   in float64;
  ;;   out10 += (val * rl in float32) * (1 - cl)   in float64;   out11 += (val * rl) * cl   in float32.
  ;; taps as for resizeBilinearGrad.
  (func (export "resizeBilinearGradStock") (param $dy i32) (param $out i32) (param $taps i32) (param $batch i32)
        (param $inH i32) (param $inW i32) (param $outH i32) (param $outW i32) (param $depth i32)
    (local $b i32) (local $r i32) (local $c i32) (local $d i32) (local $rowStride i32) (local $bOff i32)
    (local $colFrac i32) (local $rowLo i32) (local $rowHi i32) (local $colLo i32) (local $colHi i32)
    (local $top i32) (local $bottom i32) (local $left i32) (local $right i32)
    (local $rf f64) (local $cf f64) (local $a f64) (local $bb f64) (local $rf32 f32) (local $cf32 f32)
    (local $v32 v128) (local $v64 v128) (local $va v128) (local $p10 v128) (local $pairs i32)
    (local $sv f32) (local $sa f64) (local $sp f32)
    (local $i00 i32) (local $i01 i32) (local $i10 i32) (local $i11 i32) (local $p i32)
    (local.set $rowStride (i32.mul (local.get $inW) (local.get $depth)))
    (local.set $colFrac (i32.add (local.get $taps) (i32.shl (local.get $outH) (i32.const 3))))
    (local.set $rowLo (i32.add (local.get $colFrac) (i32.shl (local.get $outW) (i32.const 3))))
    (local.set $rowHi (i32.add (local.get $rowLo) (i32.shl (local.get $outH) (i32.const 2))))
    (local.set $colLo (i32.add (local.get $rowHi) (i32.shl (local.get $outH) (i32.const 2))))
    (local.set $colHi (i32.add (local.get $colLo) (i32.shl (local.get $outW) (i32.const 2))))
    (local.set $pairs (i32.and (local.get $depth) (i32.const -2)))
    (block $batchDone
      (loop $batchLoop
        (br_if $batchDone (i32.ge_u (local.get $b) (local.get $batch)))
        (local.set $bOff (i32.mul (i32.mul (local.get $b) (local.get $inH)) (local.get $rowStride)))
        (local.set $r (i32.const 0))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $outH)))
            (local.set $top (i32.add (local.get $bOff) (i32.mul (i32.load (i32.add (local.get $rowLo) (i32.shl (local.get $r) (i32.const 2)))) (local.get $rowStride))))
            (local.set $bottom (i32.add (local.get $bOff) (i32.mul (i32.load (i32.add (local.get $rowHi) (i32.shl (local.get $r) (i32.const 2)))) (local.get $rowStride))))
            (local.set $rf (f64.load (i32.add (local.get $taps) (i32.shl (local.get $r) (i32.const 3)))))
            (local.set $rf32 (f32.demote_f64 (local.get $rf)))
            (local.set $a (f64.sub (f64.const 1) (local.get $rf)))
            (local.set $c (i32.const 0))
            (block $colsDone
              (loop $cols
                (br_if $colsDone (i32.ge_u (local.get $c) (local.get $outW)))
                (local.set $cf (f64.load (i32.add (local.get $colFrac) (i32.shl (local.get $c) (i32.const 3)))))
                (local.set $cf32 (f32.demote_f64 (local.get $cf)))
                (local.set $bb (f64.sub (f64.const 1) (local.get $cf)))
                (local.set $left (i32.mul (i32.load (i32.add (local.get $colLo) (i32.shl (local.get $c) (i32.const 2)))) (local.get $depth)))
                (local.set $right (i32.mul (i32.load (i32.add (local.get $colHi) (i32.shl (local.get $c) (i32.const 2)))) (local.get $depth)))
                (local.set $i00 (i32.add (local.get $out) (i32.shl (i32.add (local.get $top) (local.get $left)) (i32.const 2))))
                (local.set $i01 (i32.add (local.get $out) (i32.shl (i32.add (local.get $top) (local.get $right)) (i32.const 2))))
                (local.set $i10 (i32.add (local.get $out) (i32.shl (i32.add (local.get $bottom) (local.get $left)) (i32.const 2))))
                (local.set $i11 (i32.add (local.get $out) (i32.shl (i32.add (local.get $bottom) (local.get $right)) (i32.const 2))))
                (local.set $d (i32.const 0))
                (block $pairsDone
                  (loop $pairLoop
                    (br_if $pairsDone (i32.ge_u (local.get $d) (local.get $pairs)))
                    (local.set $v32 (v128.load64_zero (local.get $dy)))
                    (local.set $v64 (f64x2.promote_low_f32x4 (local.get $v32)))
                    (local.set $va (f64x2.mul (local.get $v64) (f64x2.splat (local.get $a))))
                    (local.set $p10 (f32x4.mul (local.get $v32) (f32x4.splat (local.get $rf32))))
                    (local.set $p (i32.add (local.get $i00) (i32.shl (local.get $d) (i32.const 2))))
                    (v128.store64_lane 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.add
                      (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p))) (f64x2.mul (local.get $va) (f64x2.splat (local.get $bb))))))
                    (local.set $p (i32.add (local.get $i01) (i32.shl (local.get $d) (i32.const 2))))
                    (v128.store64_lane 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.add
                      (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p))) (f64x2.mul (local.get $va) (f64x2.splat (local.get $cf))))))
                    (local.set $p (i32.add (local.get $i10) (i32.shl (local.get $d) (i32.const 2))))
                    (v128.store64_lane 0 (local.get $p) (f32x4.demote_f64x2_zero (f64x2.add
                      (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p)))
                      (f64x2.mul (f64x2.promote_low_f32x4 (local.get $p10)) (f64x2.splat (local.get $bb))))))
                    (local.set $p (i32.add (local.get $i11) (i32.shl (local.get $d) (i32.const 2))))
                    (v128.store64_lane 0 (local.get $p) (f32x4.add (v128.load64_zero (local.get $p))
                      (f32x4.mul (local.get $p10) (f32x4.splat (local.get $cf32)))))
                    (local.set $dy (i32.add (local.get $dy) (i32.const 8)))
                    (local.set $d (i32.add (local.get $d) (i32.const 2)))
                    (br $pairLoop)))
                (if (i32.lt_u (local.get $d) (local.get $depth))
                  (then
                    (local.set $sv (f32.load (local.get $dy)))
                    (local.set $sa (f64.mul (f64.promote_f32 (local.get $sv)) (local.get $a)))
                    (local.set $sp (f32.mul (local.get $sv) (local.get $rf32)))
                    (local.set $p (i32.add (local.get $i00) (i32.shl (local.get $d) (i32.const 2))))
                    (f32.store (local.get $p) (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (local.get $p))) (f64.mul (local.get $sa) (local.get $bb)))))
                    (local.set $p (i32.add (local.get $i01) (i32.shl (local.get $d) (i32.const 2))))
                    (f32.store (local.get $p) (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (local.get $p))) (f64.mul (local.get $sa) (local.get $cf)))))
                    (local.set $p (i32.add (local.get $i10) (i32.shl (local.get $d) (i32.const 2))))
                    (f32.store (local.get $p) (f32.demote_f64 (f64.add (f64.promote_f32 (f32.load (local.get $p))) (f64.mul (f64.promote_f32 (local.get $sp)) (local.get $bb)))))
                    (local.set $p (i32.add (local.get $i11) (i32.shl (local.get $d) (i32.const 2))))
                    (f32.store (local.get $p) (f32.add (f32.load (local.get $p)) (f32.mul (local.get $sp) (local.get $cf32))))
                    (local.set $dy (i32.add (local.get $dy) (i32.const 4)))))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $cols)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rows)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $batchLoop))))

  ;; dst[i] = src[i * stride] for i < count, float32 (the filter gradient's im2col rows at stride 2 and more).
  (func (export "copyStrided") (param $src i32) (param $dst i32) (param $count i32) (param $stride i32)
    (local $i i32) (local $step i32)
    (if (i32.eq (local.get $stride) (i32.const 2))
      (then
        ;; Four at a time from eight loaded floats; stops while a whole eight lie inside the source row.
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.gt_u (i32.add (local.get $i) (i32.const 5)) (local.get $count)))
            (v128.store (local.get $dst)
              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                (v128.load (local.get $src)) (v128.load offset=16 (local.get $src))))
            (local.set $src (i32.add (local.get $src) (i32.const 32)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $vec)))))
    (local.set $step (i32.shl (local.get $stride) (i32.const 2)))
    (block $done
      (loop $scalar
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (f32.store (local.get $dst) (f32.load (local.get $src)))
        (local.set $src (i32.add (local.get $src) (local.get $step)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scalar))))
)
