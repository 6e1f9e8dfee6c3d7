"""The SQLite schema as numbered migrations; `PRAGMA user_version` records how far a file is."""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: units, contacts, people, the append-only report log, current state and running totals.
    """
    CREATE TABLE units (
        code TEXT PRIMARY KEY,
        code_key TEXT NOT NULL UNIQUE,          -- lower(code): codes match case-insensitively
        parent_code TEXT REFERENCES units(code),
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        depth INTEGER NOT NULL,
        is_area INTEGER NOT NULL,
        registered_voters INTEGER,              -- imported list size, areas only
        staff INTEGER,
        position INTEGER NOT NULL,
        locked INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX units_parent ON units(parent_code, position);

    CREATE TABLE unit_contacts (                -- phones assigned to a unit
        unit_code TEXT NOT NULL REFERENCES units(code) ON DELETE CASCADE,
        phone TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('import', 'assign')),
        PRIMARY KEY (unit_code, phone, source)
    );
    CREATE INDEX unit_contacts_phone ON unit_contacts(phone);

    CREATE TABLE people (                       -- registered Telegram users
        user_id INTEGER PRIMARY KEY,
        phone TEXT NOT NULL,
        name TEXT NOT NULL,
        chat_id INTEGER NOT NULL,
        registered_at INTEGER NOT NULL
    );
    CREATE INDEX people_phone ON people(phone);

    CREATE TABLE reports (                      -- append-only: rows are never deleted
        id INTEGER PRIMARY KEY,
        area_code TEXT NOT NULL REFERENCES units(code),
        kind TEXT NOT NULL CHECK (kind IN ('turnout', 'completion', 'covid')),
        at INTEGER NOT NULL,
        time_stated INTEGER NOT NULL,
        voted INTEGER,
        list_size INTEGER,
        staff_tested INTEGER,
        staff_total INTEGER,
        positives INTEGER,
        is_correction INTEGER NOT NULL,
        sender_id INTEGER NOT NULL,
        chat_id INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        line_index INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        text TEXT NOT NULL,
        replaced_by INTEGER REFERENCES reports(id)   -- set once, when a correction replaces it
    );
    CREATE INDEX reports_current ON reports(area_code) WHERE replaced_by IS NULL;
    CREATE INDEX reports_origin ON reports(chat_id, message_id);

    CREATE TABLE unit_totals (                  -- running totals, kept in step with reports
        code TEXT PRIMARY KEY REFERENCES units(code) ON DELETE CASCADE,
        areas_total INTEGER NOT NULL DEFAULT 0,
        areas_reported INTEGER NOT NULL DEFAULT 0,
        areas_finished INTEGER NOT NULL DEFAULT 0,
        registered_voters INTEGER NOT NULL DEFAULT 0,
        voted INTEGER NOT NULL DEFAULT 0,
        staff_total INTEGER NOT NULL DEFAULT 0,
        staff_tested INTEGER NOT NULL DEFAULT 0,
        positives INTEGER NOT NULL DEFAULT 0,
        last_report_at INTEGER
    );

    CREATE TABLE processed_messages (           -- each message version takes effect once
        chat_id INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        version INTEGER NOT NULL,
        replies TEXT NOT NULL,                  -- JSON list of the replies sent
        processed_at INTEGER NOT NULL,
        PRIMARY KEY (chat_id, message_id, version)
    );
    """,
    # 2: group chats subscribed to a unit's automatic summaries.
    """
    CREATE TABLE subscriptions (
        chat_id INTEGER PRIMARY KEY,            -- one unit per group
        unit_code TEXT NOT NULL REFERENCES units(code) ON DELETE CASCADE,
        title TEXT NOT NULL,
        subscribed_by INTEGER NOT NULL,
        subscribed_at INTEGER NOT NULL,
        finished_notified INTEGER NOT NULL DEFAULT 0   -- the "all finished" notice went out
    );
    CREATE INDEX subscriptions_unit ON subscriptions(unit_code);
    """,
    # 3: the durable inbox: updates are stored before Telegram is allowed to forget them.
    """
    CREATE TABLE inbox (
        update_id INTEGER PRIMARY KEY,
        payload TEXT NOT NULL,                  -- the update as received (JSON)
        received_at INTEGER NOT NULL
    );
    CREATE TABLE inbox_offset (                 -- the next update_id to ask Telegram for
        id INTEGER PRIMARY KEY CHECK (id = 1),
        next_update_id INTEGER NOT NULL
    );
    """,
    # 4: what admins did, for accountability.
    """
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        user_id INTEGER NOT NULL,               -- 0: the server's command line
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
