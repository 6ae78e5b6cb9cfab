version 1.0

# classify_virnucpro with the virnucpro binary: what viral-pipelines' task of that name does with
# virnucpro-broad (reads in, both VirNucPro files out, one GPU or the CPU), without the BAM-to-FASTA
# conversion (BAM is read directly) and with a resume that survives preemption.
#
# The outputs have the names and the layout the downstream tasks read: <basename>.virnucpro.tsv is
# prediction_results.txt, <basename>.virnucpro_highestscore.csv the four-column consensus
# (Modified_ID Is_Virus max_score_0 max_score_1) that classify_virnucpro_contigs takes, both in one .tgz.
#
# Resume: the run journal (OUTDIR/.virnucpro) is archived into a Cromwell checkpoint file every
# checkpoint_minutes; after a preemption Cromwell restores it and `predict --resume` skips the blocks already
# done. On engines without checkpointFile, resume applies within one attempt only.

task classify_virnucpro {
  meta {
    description: "Scores reads or contigs as viral or not with virnucpro (VirNucPro re-implemented in C), on a GPU or the CPU."
  }

  input {
    File     reads_input
    Int      expected_length = 300
    Boolean  use_gpu = true
    Boolean  resume = true
    Int?     esm_batch_size
    Int?     dnabert_batch_size
    String   models_dir = "/opt/virnucpro-models"   # esm2_t36_3B_UR50D.pt, DNABERT-S/, 300_model.pth, 500_model.pth
    Int      checkpoint_minutes = 10

    String?  accelerator_type
    Int?     accelerator_count
    String?  gpu_type
    Int?     gpu_count
    String?  vm_size
    String   docker = "virnucpro:latest"
  }

  parameter_meta {
    reads_input: {
      description: "Reads or contigs: unaligned BAM/SAM/CRAM, FASTA or FASTQ, plain or gzip.",
      patterns: ["*.bam", "*.fasta", "*.fa", "*.fasta.gz", "*.fa.gz", "*.fastq.gz", "*.fq.gz"]
    }
    expected_length: { description: "Chunk length, 300 or 500; picks <expected_length>_model.pth from models_dir." }
    use_gpu: { description: "Run the encoders on the GPU (exit 2 at once when none is usable); false: the CPU." }
    resume: { description: "Continue a run restored from the checkpoint file instead of starting over." }
    models_dir: { description: "Folder holding the released models, as `virnucpro models download --dir` lays them out." }
  }

  String basename = sub(basename(reads_input), "\\.(bam|sam|cram|fasta\\.gz|fa\\.gz|fastq\\.gz|fq\\.gz|fasta|fa|fastq|fq)$", "")

  command <<<
    set -ex -o pipefail
    virnucpro --version | tee VERSION

    # a checkpoint restored after a preemption holds the journal of the earlier attempt
    if [ -s virnucpro.ckpt.tar ] && ~{true='true' false='false' resume}; then
      tar -xf virnucpro.ckpt.tar
    fi
    ( while sleep $((~{checkpoint_minutes} * 60)); do
        [ -d out/.virnucpro ] && tar -cf virnucpro.ckpt.tar.tmp out && mv virnucpro.ckpt.tar.tmp virnucpro.ckpt.tar
      done ) &
    saver=$!

    RESUME=""
    [ -d out/.virnucpro ] && ~{true='true' false='false' resume} && RESUME="--resume"
    virnucpro predict "~{reads_input}" -l ~{expected_length} -o out --models "~{models_dir}" \
      --device ~{true='cuda' false='cpu' use_gpu} --threads "$(nproc)" \
      ~{'--esm-batch-size ' + esm_batch_size} ~{'--dnabert-batch-size ' + dnabert_batch_size} \
      $RESUME --force
    kill $saver || true

    cp out/prediction_results.txt "~{basename}.virnucpro.tsv"
    cp out/prediction_results_highestscore.csv "~{basename}.virnucpro_highestscore.csv"
    tar -czf "~{basename}.virnucpro.tgz" "~{basename}.virnucpro.tsv" "~{basename}.virnucpro_highestscore.csv"
  >>>

  output {
    File   virnuc_pro_scores  = "~{basename}.virnucpro.tgz"
    File   sequence_summary   = "out/sequence_summary.tsv"
    File   run_summary        = "out/run_summary.json"
    String virnucpro_version  = read_string("VERSION")
  }

  # the platform attributes of viral-pipelines' task: GCP acceleratorType/Count, Terra gpuType/Count,
  # DNAnexus gpu/dx_instance_type, Azure vm_size
  runtime {
    docker: docker
    memory: "30 GB"
    cpu: 8
    disks: "local-disk 120 SSD"
    disk: "120 GB"
    gpu: use_gpu
    dx_instance_type: if use_gpu then "mem1_ssd1_gpu2_x8" else "mem1_ssd1_v2_x8"
    acceleratorType: select_first([accelerator_type, "nvidia-tesla-t4"])
    acceleratorCount: if use_gpu then select_first([accelerator_count, 1]) else 0
    gpuType: select_first([gpu_type, "nvidia-tesla-t4"])
    gpuCount: if use_gpu then select_first([gpu_count, 1]) else 0
    vm_size: select_first([vm_size, "Standard_NC6"])
    checkpointFile: "virnucpro.ckpt.tar"
    preemptible: 2
    maxRetries: 1
  }
}
