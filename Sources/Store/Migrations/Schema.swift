/// The schema, as migrations. Later capabilities append theirs (telemetry history, jobs,
/// conversations, bot state) — the table layout below leaves room for them.
public enum Schema {
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "accounts and sessions") { t in
            [
                """
                CREATE TABLE users (
                    id \(unsafeRaw: t.serialKey),
                    username TEXT NOT NULL UNIQUE,
                    password_hash TEXT NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
                    totp_secret \(unsafeRaw: t.bytes),
                    created_at \(unsafeRaw: t.timestamp) NOT NULL,
                    disabled INTEGER NOT NULL DEFAULT 0
                )
                """,
                """
                CREATE TABLE sessions (
                    id_hash TEXT PRIMARY KEY,
                    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    csrf_token TEXT NOT NULL,
                    created_at \(unsafeRaw: t.timestamp) NOT NULL,
                    last_seen_at \(unsafeRaw: t.timestamp) NOT NULL,
                    expires_at \(unsafeRaw: t.timestamp) NOT NULL,
                    client_address TEXT
                )
                """,
                "CREATE INDEX sessions_user ON sessions (user_id)",
            ]
        },
        Migration(version: 2, name: "API keys, audit log, secrets") { t in
            [
                """
                CREATE TABLE api_keys (
                    id \(unsafeRaw: t.serialKey),
                    name TEXT NOT NULL,
                    key_hash TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL CHECK (kind IN ('api', 'overlay')),
                    scopes TEXT NOT NULL,
                    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
                    created_at \(unsafeRaw: t.timestamp) NOT NULL,
                    expires_at \(unsafeRaw: t.timestamp),
                    revoked_at \(unsafeRaw: t.timestamp)
                )
                """,
                """
                CREATE TABLE audit_log (
                    id \(unsafeRaw: t.serialKey),
                    at \(unsafeRaw: t.timestamp) NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    target TEXT,
                    client_address TEXT,
                    outcome TEXT NOT NULL,
                    details TEXT
                )
                """,
                "CREATE INDEX audit_log_at ON audit_log (at)",
                """
                CREATE TABLE secrets (
                    name TEXT PRIMARY KEY,
                    nonce_and_ciphertext \(unsafeRaw: t.bytes) NOT NULL,
                    updated_at \(unsafeRaw: t.timestamp) NOT NULL
                )
                """,
            ]
        },
        Migration(version: 3, name: "second factors: recovery codes, replay guard") { t in
            [
                // The newest TOTP time step accepted, so a code cannot be replayed within its window.
                "ALTER TABLE users ADD COLUMN totp_last_step BIGINT",
                """
                CREATE TABLE recovery_codes (
                    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    code_hash TEXT NOT NULL,
                    used_at \(unsafeRaw: t.timestamp),
                    PRIMARY KEY (user_id, code_hash)
                )
                """,
            ]
        },
        Migration(version: 4, name: "alerts") { t in
            [
                """
                CREATE TABLE alerts (
                    id \(unsafeRaw: t.serialKey),
                    alert_key TEXT NOT NULL,
                    rule TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
                    summary TEXT NOT NULL,
                    value \(unsafeRaw: t.real),
                    since \(unsafeRaw: t.timestamp) NOT NULL,
                    fired_at \(unsafeRaw: t.timestamp) NOT NULL,
                    resolved_at \(unsafeRaw: t.timestamp)
                )
                """,
                "CREATE INDEX alerts_state ON alerts (state, fired_at)",
            ]
        },
        Migration(version: 5, name: "metric history") { t in
            [
                """
                CREATE TABLE metric_series (
                    id \(unsafeRaw: t.serialKey),
                    kind TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    metric TEXT NOT NULL,
                    UNIQUE (kind, subject, metric)
                )
                """,
                // One row per series, resolution (seconds; 0 = raw samples) and bucket start (ms):
                // min, average and max of what fell into it.
                """
                CREATE TABLE metric_points (
                    series_id BIGINT NOT NULL REFERENCES metric_series(id) ON DELETE CASCADE,
                    resolution INTEGER NOT NULL,
                    bucket \(unsafeRaw: t.timestamp) NOT NULL,
                    min_value \(unsafeRaw: t.real) NOT NULL,
                    avg_value \(unsafeRaw: t.real) NOT NULL,
                    max_value \(unsafeRaw: t.real) NOT NULL,
                    samples INTEGER NOT NULL,
                    PRIMARY KEY (series_id, resolution, bucket)
                )
                """,
                "CREATE INDEX metric_points_age ON metric_points (resolution, bucket)",
            ]
        },
        Migration(version: 6, name: "Jarvis: providers, conversations, messages, tool calls") { t in
            [
                // The provider chain, in priority order. A key is stored sealed (SecretVault), never in clear.
                """
                CREATE TABLE jarvis_providers (
                    id \(unsafeRaw: t.serialKey),
                    position INTEGER NOT NULL,
                    name TEXT NOT NULL UNIQUE,
                    base_url TEXT NOT NULL,
                    model TEXT NOT NULL,
                    sealed_key \(unsafeRaw: t.bytes),
                    connect_timeout_ms INTEGER NOT NULL,
                    first_token_timeout_ms INTEGER NOT NULL,
                    idle_timeout_ms INTEGER NOT NULL,
                    max_tokens INTEGER,
                    enabled INTEGER NOT NULL DEFAULT 1
                )
                """,
                """
                CREATE TABLE jarvis_conversations (
                    id TEXT PRIMARY KEY,
                    owner TEXT NOT NULL,
                    title TEXT NOT NULL,
                    created_at \(unsafeRaw: t.timestamp) NOT NULL,
                    updated_at \(unsafeRaw: t.timestamp) NOT NULL
                )
                """,
                "CREATE INDEX jarvis_conversations_owner ON jarvis_conversations (owner, updated_at)",
                // One row per message; an assistant answer is written when it starts (state 'streaming')
                // and completed with its outcome, provider and timings. stream_epoch/offset: the channel
                // position just before the answer's first event, so a reloaded page replays it with `since`.
                """
                CREATE TABLE jarvis_messages (
                    id \(unsafeRaw: t.serialKey),
                    conversation_id TEXT NOT NULL REFERENCES jarvis_conversations(id) ON DELETE CASCADE,
                    role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
                    content TEXT NOT NULL,
                    tool_calls TEXT,
                    tool_call_id TEXT,
                    state TEXT NOT NULL CHECK (state IN ('streaming', 'complete', 'cancelled', 'interrupted', 'failed')),
                    error TEXT,
                    provider TEXT,
                    model TEXT,
                    finish_reason TEXT,
                    prompt_tokens INTEGER,
                    completion_tokens INTEGER,
                    first_token_ms INTEGER,
                    total_ms INTEGER,
                    stream_epoch TEXT,
                    stream_offset BIGINT,
                    created_at \(unsafeRaw: t.timestamp) NOT NULL
                )
                """,
                "CREATE INDEX jarvis_messages_conversation ON jarvis_messages (conversation_id, id)",
                // Every tool call Jarvis made or proposed, with the policy's decision and who approved it.
                """
                CREATE TABLE jarvis_tool_calls (
                    id \(unsafeRaw: t.serialKey),
                    conversation_id TEXT NOT NULL REFERENCES jarvis_conversations(id) ON DELETE CASCADE,
                    call_id TEXT NOT NULL,
                    tool TEXT NOT NULL,
                    arguments TEXT NOT NULL,
                    tier TEXT NOT NULL,
                    policy TEXT NOT NULL,
                    state TEXT NOT NULL,
                    requested_by TEXT NOT NULL,
                    requested_at \(unsafeRaw: t.timestamp) NOT NULL,
                    decided_by TEXT,
                    decided_at \(unsafeRaw: t.timestamp),
                    result TEXT,
                    finished_at \(unsafeRaw: t.timestamp)
                )
                """,
                "CREATE INDEX jarvis_tool_calls_conversation ON jarvis_tool_calls (conversation_id, id)",
                "CREATE INDEX jarvis_tool_calls_pending ON jarvis_tool_calls (state)",
            ]
        },
        Migration(version: 7, name: "Jarvis: tool policy, the answer that asked for a tool call") { t in
            [
                // Only the tools whose decision an admin changed; the others follow their tier's default.
                """
                CREATE TABLE jarvis_tool_policy (
                    tool TEXT PRIMARY KEY,
                    decision TEXT NOT NULL CHECK (decision IN ('auto', 'approval', 'forbidden')),
                    updated_by TEXT NOT NULL,
                    updated_at \(unsafeRaw: t.timestamp) NOT NULL
                )
                """,
                "ALTER TABLE jarvis_tool_calls ADD COLUMN message_id BIGINT",
                "ALTER TABLE jarvis_tool_calls ADD COLUMN description TEXT",
            ]
        },
    ]
}
