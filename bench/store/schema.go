package store

import "regexp"

// migrations are applied in order; PRAGMA user_version records how many ran.
// Never edit a released migration: append a new one.
var migrations = []string{
	// 1: runs, cases, llama-bench rows in llama-bench's own columns, mamf, bandwidth.
	`
CREATE TABLE runs (
  id          TEXT PRIMARY KEY,
  suite       TEXT NOT NULL,
  target      TEXT NOT NULL,
  started     TEXT NOT NULL,
  finished    TEXT,
  host        TEXT NOT NULL,
  images      TEXT NOT NULL,
  lock_digest TEXT NOT NULL
);
CREATE INDEX runs_started ON runs(started);

CREATE TABLE cases (
  run_id     TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  case_id    TEXT NOT NULL,
  seq        INTEGER NOT NULL,
  tool       TEXT NOT NULL,
  backend    TEXT NOT NULL,
  model      TEXT NOT NULL,
  image      TEXT NOT NULL,
  status     TEXT NOT NULL,
  exit_code  INTEGER NOT NULL,
  error      TEXT NOT NULL,
  started    TEXT,
  finished   TEXT,
  vram_mib   REAL,
  gtt_mib    REAL,
  ram_mib    REAL,
  stdout_log TEXT NOT NULL,
  stderr_log TEXT NOT NULL,
  args       TEXT NOT NULL,
  env        TEXT NOT NULL,
  PRIMARY KEY (run_id, case_id)
);
CREATE INDEX cases_model_backend ON cases(model, backend);

CREATE TABLE llama_bench (
  build_commit TEXT,
  build_number INTEGER,
  cpu_info TEXT,
  gpu_info TEXT,
  backends TEXT,
  model_filename TEXT,
  model_type TEXT,
  model_size INTEGER,
  model_n_params INTEGER,
  n_batch INTEGER,
  n_ubatch INTEGER,
  n_threads INTEGER,
  cpu_mask TEXT,
  cpu_strict INTEGER,
  poll INTEGER,
  type_k TEXT,
  type_v TEXT,
  n_gpu_layers INTEGER,
  n_cpu_moe INTEGER,
  split_mode TEXT,
  main_gpu INTEGER,
  no_kv_offload INTEGER,
  flash_attn INTEGER,
  devices TEXT,
  tensor_split TEXT,
  tensor_buft_overrides TEXT,
  use_mmap INTEGER,
  use_direct_io INTEGER,
  load_mode TEXT,
  lazy_mode TEXT,
  embeddings INTEGER,
  no_op_offload INTEGER,
  no_host INTEGER,
  repack INTEGER,
  fit_target INTEGER,
  fit_min_ctx INTEGER,
  n_prompt INTEGER,
  n_gen INTEGER,
  n_depth INTEGER,
  test_time TEXT,
  avg_ns INTEGER,
  stddev_ns INTEGER,
  avg_ts REAL,
  stddev_ts REAL,
  samples_ns TEXT,
  samples_ts TEXT,
  run_id TEXT NOT NULL,
  case_id TEXT NOT NULL,
  test_seq INTEGER NOT NULL,
  record_json TEXT NOT NULL,
  FOREIGN KEY (run_id, case_id) REFERENCES cases(run_id, case_id) ON DELETE CASCADE
);
CREATE INDEX llama_bench_case ON llama_bench(run_id, case_id);

CREATE TABLE mamf (
  run_id TEXT NOT NULL,
  case_id TEXT NOT NULL,
  dtype TEXT,
  device TEXT,
  torch TEXT,
  shapes INTEGER,
  mean_tflops REAL,
  mean_shape TEXT,
  median_tflops REAL,
  median_shape TEXT,
  max_tflops REAL,
  max_shape TEXT,
  geomean_tflops REAL,
  elapsed_s REAL,
  result_json TEXT NOT NULL,
  PRIMARY KEY (run_id, case_id),
  FOREIGN KEY (run_id, case_id) REFERENCES cases(run_id, case_id) ON DELETE CASCADE
);

CREATE TABLE bandwidth (
  run_id TEXT NOT NULL,
  case_id TEXT NOT NULL,
  version TEXT,
  gpu_copy_gbs REAL,
  host_to_gpu_gbs REAL,
  gpu_to_host_gbs REAL,
  result_json TEXT NOT NULL,
  PRIMARY KEY (run_id, case_id),
  FOREIGN KEY (run_id, case_id) REFERENCES cases(run_id, case_id) ON DELETE CASCADE
);
`,
	// 2: case order lookups per run (PutCase finds the next seq in O(log n)).
	`CREATE INDEX cases_run_seq ON cases(run_id, seq);`,
	// 3: the whole header and case as JSON, so fields added to bench.Run and
	// bench.CaseResult later are kept without a migration; a few of them as
	// columns for queries.
	`
ALTER TABLE runs ADD COLUMN run_json TEXT;
ALTER TABLE cases ADD COLUMN case_json TEXT;
ALTER TABLE cases ADD COLUMN wall_sec REAL;
ALTER TABLE cases ADD COLUMN timeout_sec REAL;
ALTER TABLE cases ADD COLUMN proc_vram_mib REAL;
ALTER TABLE cases ADD COLUMN proc_gtt_mib REAL;
`,
	// 4: when each run was stored (written first or replaced), which is what
	// "latest" means: an import of old outputs is the latest run even though
	// its tests ran long ago. Runs stored before have none and sort by start.
	`
ALTER TABLE runs ADD COLUMN stored TEXT;
CREATE INDEX runs_stored ON runs(stored);
`,
	// 5: each llama-bench record without its fields map and order, the part
	// report, compare and history decode (a quarter of record_json); rows
	// stored before get it here, computed by the database.
	`
ALTER TABLE llama_bench ADD COLUMN typed_json TEXT;
UPDATE llama_bench SET typed_json = TYPED_RECORD(record_json);
`,
}

// reservedColumns are llama_bench columns haloforge owns; a llama-bench field
// of the same name is kept only in record_json.
var reservedColumns = map[string]bool{
	"run_id": true, "case_id": true, "test_seq": true, "record_json": true, "typed_json": true,
	"samples_ns": true, "samples_ts": true,
}

// migration is migration i as dialect d runs it: TYPED_RECORD(col) is d's
// expression for a record_json value without "fields" and "order".
func migration(d dialect, i int) string {
	return typedRecordRE.ReplaceAllStringFunc(migrations[i], func(m string) string {
		return d.typedRecord(typedRecordRE.FindStringSubmatch(m)[1])
	})
}

var typedRecordRE = regexp.MustCompile(`TYPED_RECORD\((\w+)\)`)
