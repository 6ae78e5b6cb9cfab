#!/bin/bash
# On the GPU machine, from the repository root, with binaries carried in DIR (bin.tar.xz: virnucpro and the CUDA test
# binaries; lib.tar.xz: their libraries, as dev/cuda/make_carry.sh packs them): the whole-binary GPU correctness run of
# docs/benchmarks.md ("Correctness of the merged binary"). usage: check_merged.sh DIR
set -u -o pipefail
d=${1:?usage: check_merged.sh DIR}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
L=$(mktemp -d); tar -xJf $d/lib.tar.xz -C $L; tar -xJf $d/bin.tar.xz -C $d
export LD_LIBRARY_PATH="$L:/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}"
nvidia-smi --query-gpu=name,driver_version,power.limit,compute_cap --format=csv | tee $OUT/gpu.txt
for t in test_ops test_batch_invariance test_backend_cuda; do
  echo "== $t"; timeout 150 $d/$t > $OUT/$t.log 2>&1; echo "rc=$?"; tail -3 $OUT/$t.log
done
timeout 240 bash dev/cuda/run_fp8.sh $d unit,fixtures > $OUT/fp8.log 2>&1; echo "run_fp8 rc=$?"
cat $OUT/summary.log 2>/dev/null | tail -30
V=$d/virnucpro; D=tests/data; T=$(mktemp -d)
M=(--esm $D/models/esm2-tiny --dnabert $D/models/dnabert-s-tiny --classifier $D/models/mlp/mlp_tiny.pth)
ok=0; bad=0
for f in $D/inputs/*; do base=$(basename $f); stem=${base%.*}
  for len in 300 500; do c=${stem}_${len}; [ "$base" = lassa_reads_subset.bam ] && c=lassa_reads_subset.from_bam_${len}
    [ -d $D/pipeline/$c ] || continue
    for p in fp32 fp16; do
      $V predict $f -l $len -o $T/$c.$p "${M[@]}" --device cuda --precision $p -q 2>>$OUT/pred.err || echo "predict $c $p FAILED"
      tol=1e-5; [ $p = fp16 ] && tol=2e-3
      if python3 tests/cli/compare_predictions.py $T/$c.$p $D/pipeline/$c/broad $tol >>$OUT/cmp.log 2>&1; then ok=$((ok+1)); else bad=$((bad+1)); echo "MISMATCH $c $p"; fi
    done
    $V predict $f -l $len -o $T/$c.nr "${M[@]}" --device cuda --no-reuse -q --save-embeddings 2>>$OUT/pred.err
    $V predict $f -l $len -o $T/$c.r "${M[@]}" --device cuda -q --save-embeddings 2>>$OUT/pred.err
    for x in prediction_results.txt prediction_results_highestscore.csv sequence_summary.tsv embeddings.h5 viral_regions.tsv; do
      cmp -s $T/$c.nr/$x $T/$c.r/$x && ok=$((ok+1)) || { bad=$((bad+1)); echo "REUSE DIFF $c $x"; }; done
  done
done
echo "gpu fixture checks: $ok passed, $bad failed"
tail -5 $OUT/cmp.log
