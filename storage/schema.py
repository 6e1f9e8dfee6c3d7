"""The schema as numbered migrations, one list per engine, the same numbers meaning the same.

The lists are append-only: a migration's SQL, once released, is history and never changes
(so the first five still speak of the first channel's integer ids, which the sixth turns
into channel identities).

SQLite records how far a file is in `PRAGMA user_version`, PostgreSQL in `schema_version`.
"""

from __future__ import annotations

# The over-the-day steps of every unit above the areas (`unit_steps`, `bot.turnout.steps`),
# from the current reports: per area and minute, the sum of each count minus the area's
# previous count in the rules' order, and how many counts sit at the minute; added up the
# tree (each area's rows go to each of its ancestors; an area's own steps are read from its
# few reports). Migration 14 runs the same SQL (written out: a released migration never
# changes); this is run whenever the totals are rebuilt (a units import), on both engines.
UNIT_STEPS_FROM_REPORTS = """
    INSERT INTO unit_steps (code, minute, change, points)
    WITH RECURSIVE area_steps (code, minute, change, points) AS (
        SELECT area_code, minute, SUM(change), COUNT(*) FROM (
            SELECT area_code, at - at % 60 AS minute, voted - COALESCE(LAG(voted) OVER (
                PARTITION BY area_code ORDER BY at - at % 60,
                CASE WHEN kind = 'completion' THEN 1 ELSE 0 END, id), 0) AS change
            FROM reports WHERE replaced_by IS NULL AND kind != 'covid'
            AND area_code IN (SELECT code FROM units WHERE is_area = 1)
        ) AS changes GROUP BY area_code, minute
    ), chain (code, minute, change, points) AS (
        SELECT u.parent_code, area_steps.minute, area_steps.change, area_steps.points
        FROM area_steps JOIN units u ON u.code = area_steps.code WHERE u.parent_code IS NOT NULL
        UNION ALL
        SELECT u.parent_code, chain.minute, chain.change, chain.points
        FROM chain JOIN units u ON u.code = chain.code WHERE u.parent_code IS NOT NULL
    )
    SELECT code, minute, SUM(change), SUM(points) FROM chain GROUP BY code, minute
"""

SQLITE_MIGRATIONS: tuple[str, ...] = (
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
    # 3: the durable inbox: updates are stored before the chat platform may forget them.
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
    # 5: several bots (one token per province) may share a database, so what is per bot is
    # keyed by the bot's id (updates, handled messages, a report's origin, group subscriptions);
    # and when an update was last handled, for `fieldtally status`.
    # Rows from before are bot 0 until a bot adopts them (Database.open).
    """
    CREATE TABLE inbox_v5 (
        bot_id INTEGER NOT NULL,
        update_id INTEGER NOT NULL,
        payload TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        lease_until INTEGER NOT NULL DEFAULT 0, -- epoch s: a process is handling it until then
        PRIMARY KEY (bot_id, update_id)
    );
    INSERT INTO inbox_v5 SELECT 0, update_id, payload, received_at, 0 FROM inbox;
    DROP TABLE inbox;
    ALTER TABLE inbox_v5 RENAME TO inbox;

    CREATE TABLE inbox_offset_v5 (
        bot_id INTEGER PRIMARY KEY,
        next_update_id INTEGER NOT NULL,
        last_handled_at INTEGER
    );
    INSERT INTO inbox_offset_v5 SELECT 0, next_update_id, NULL FROM inbox_offset;
    DROP TABLE inbox_offset;
    ALTER TABLE inbox_offset_v5 RENAME TO inbox_offset;

    CREATE TABLE processed_messages_v5 (
        bot_id INTEGER NOT NULL,
        chat_id INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        version INTEGER NOT NULL,
        replies TEXT NOT NULL,
        processed_at INTEGER NOT NULL,
        PRIMARY KEY (bot_id, chat_id, message_id, version)
    );
    INSERT INTO processed_messages_v5 SELECT 0, * FROM processed_messages;
    DROP TABLE processed_messages;
    ALTER TABLE processed_messages_v5 RENAME TO processed_messages;

    ALTER TABLE reports ADD COLUMN bot_id INTEGER NOT NULL DEFAULT 0;
    DROP INDEX reports_origin;
    CREATE INDEX reports_origin ON reports(bot_id, chat_id, message_id);

    CREATE TABLE subscriptions_v5 (             -- a group follows a unit through one bot
        bot_id INTEGER NOT NULL,
        chat_id INTEGER NOT NULL,
        unit_code TEXT NOT NULL REFERENCES units(code) ON DELETE CASCADE,
        title TEXT NOT NULL,
        subscribed_by INTEGER NOT NULL,
        subscribed_at INTEGER NOT NULL,
        finished_notified INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (bot_id, chat_id)
    );
    INSERT INTO subscriptions_v5 SELECT 0, * FROM subscriptions;
    DROP TABLE subscriptions;
    ALTER TABLE subscriptions_v5 RENAME TO subscriptions;
    CREATE INDEX subscriptions_unit ON subscriptions(unit_code);

    CREATE TABLE store_meta (                   -- counters other processes watch
        key TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    INSERT INTO store_meta VALUES ('units_generation', 0);  -- bumped when the tree changes
    """,
    # 6: identities belong to no platform (issue 13). A person, a chat or a sender is the
    # text `channel:id`; a message is referred to by text; the bot a row came through is the
    # bot's own address as text; the command line in the audit log is `server:cli`. Every
    # id stored before came from the first channel, whose name the SQL below spells.
    # Rows of bot 0 (from before schema 5 and not yet adopted by a bot, or written without
    # a bot) get the empty bot '' and keep that meaning: the first bot to start on the
    # database adopts them if the empty bot has a cursor row (`Database.
    # adopt_rows_without_bot`). The inbox keeps the arrival order in `seq`; the polling
    # offset becomes a per-bot cursor that only the channel's adapter interprets.
    """
    CREATE TABLE people_v6 (
        identity TEXT PRIMARY KEY,              -- `channel:id` of the person
        phone TEXT NOT NULL,
        name TEXT NOT NULL,
        chat TEXT NOT NULL,                     -- `channel:id` of their private chat
        registered_at INTEGER NOT NULL
    );
    INSERT INTO people_v6 SELECT 'telegram:' || user_id, phone, name,
        'telegram:' || chat_id, registered_at FROM people;
    DROP TABLE people;
    ALTER TABLE people_v6 RENAME TO people;
    CREATE INDEX people_phone ON people(phone);

    DROP INDEX reports_origin;
    ALTER TABLE reports ADD COLUMN sender TEXT NOT NULL DEFAULT '';
    ALTER TABLE reports ADD COLUMN chat TEXT NOT NULL DEFAULT '';
    ALTER TABLE reports ADD COLUMN message_ref TEXT NOT NULL DEFAULT '';
    ALTER TABLE reports ADD COLUMN bot TEXT NOT NULL DEFAULT '';
    UPDATE reports SET sender = 'telegram:' || sender_id, chat = 'telegram:' || chat_id,
        message_ref = CAST(message_id AS TEXT),
        bot = CASE WHEN bot_id = 0 THEN '' ELSE 'telegram:' || bot_id END;
    ALTER TABLE reports DROP COLUMN sender_id;
    ALTER TABLE reports DROP COLUMN chat_id;
    ALTER TABLE reports DROP COLUMN message_id;
    ALTER TABLE reports DROP COLUMN bot_id;
    CREATE INDEX reports_origin ON reports(bot, chat, message_ref);

    CREATE TABLE processed_messages_v6 (
        bot TEXT NOT NULL,
        chat TEXT NOT NULL,
        message_ref TEXT NOT NULL,
        revision INTEGER NOT NULL,
        replies TEXT NOT NULL,                  -- JSON list of the replies sent
        processed_at INTEGER NOT NULL,
        PRIMARY KEY (bot, chat, message_ref, revision)
    );
    INSERT INTO processed_messages_v6 SELECT
        CASE WHEN bot_id = 0 THEN '' ELSE 'telegram:' || bot_id END, 'telegram:' || chat_id,
        CAST(message_id AS TEXT), version, replies, processed_at FROM processed_messages;
    DROP TABLE processed_messages;
    ALTER TABLE processed_messages_v6 RENAME TO processed_messages;

    CREATE TABLE subscriptions_v6 (             -- a group follows a unit through one bot
        bot TEXT NOT NULL,
        chat TEXT NOT NULL,
        unit_code TEXT NOT NULL REFERENCES units(code) ON DELETE CASCADE,
        title TEXT NOT NULL,
        subscribed_by TEXT NOT NULL,
        subscribed_at INTEGER NOT NULL,
        finished_notified INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (bot, chat)
    );
    INSERT INTO subscriptions_v6 SELECT
        CASE WHEN bot_id = 0 THEN '' ELSE 'telegram:' || bot_id END, 'telegram:' || chat_id,
        unit_code, title, 'telegram:' || subscribed_by, subscribed_at, finished_notified
        FROM subscriptions;
    DROP TABLE subscriptions;
    ALTER TABLE subscriptions_v6 RENAME TO subscriptions;
    CREATE INDEX subscriptions_unit ON subscriptions(unit_code);

    CREATE TABLE inbox_v6 (
        seq INTEGER PRIMARY KEY,                -- arrival order
        bot TEXT NOT NULL,
        event_id TEXT NOT NULL,                 -- the channel's id of the event
        payload TEXT NOT NULL,                  -- the event as received
        received_at INTEGER NOT NULL,
        lease_until INTEGER NOT NULL DEFAULT 0, -- epoch s: a process is handling it until then
        UNIQUE (bot, event_id)
    );
    INSERT INTO inbox_v6 (bot, event_id, payload, received_at, lease_until) SELECT
        CASE WHEN bot_id = 0 THEN '' ELSE 'telegram:' || bot_id END, CAST(update_id AS TEXT),
        payload, received_at, lease_until FROM inbox ORDER BY bot_id, update_id;
    DROP TABLE inbox;
    ALTER TABLE inbox_v6 RENAME TO inbox;

    CREATE TABLE channel_cursors (              -- where each bot's channel left off
        bot TEXT PRIMARY KEY,
        cursor TEXT,                            -- the adapter's own (Telegram: next offset)
        last_handled_at INTEGER
    );
    INSERT INTO channel_cursors SELECT
        CASE WHEN bot_id = 0 THEN '' ELSE 'telegram:' || bot_id END,
        CAST(next_update_id AS TEXT), last_handled_at FROM inbox_offset;
    DROP TABLE inbox_offset;

    ALTER TABLE audit_log ADD COLUMN actor TEXT NOT NULL DEFAULT '';
    UPDATE audit_log SET actor = CASE WHEN user_id = 0 THEN 'server:cli'
        ELSE 'telegram:' || user_id END;
    ALTER TABLE audit_log DROP COLUMN user_id;
    """,
    # 7: media served over HTTPS (charts and export files for channels that take a URL, not
    # an upload): at `/media/{id}?t={token}` until `expires_at` (epoch seconds); only the
    # token's SHA-256 (hex) is kept. In the database, not in files, so every bot process
    # sharing it serves the links any of them gave out.
    """
    CREATE TABLE media (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL,
        content_type TEXT NOT NULL,
        filename TEXT NOT NULL,
        body BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX media_expiry ON media(expires_at);
    """,
    # 8: invitation codes (issue 15): stored as a hash, never the code; bound to one (unit,
    # phone); no foreign key to the unit (a re-import may drop it: a code for a unit or a
    # phone no longer listed is refused when used). Wrong codes per identity and lock-outs.
    """
    CREATE TABLE invitations (
        code_hash TEXT PRIMARY KEY,             -- the code's hash, see bot/registration
        unit_code TEXT NOT NULL,
        phone TEXT NOT NULL,                    -- normalised, `+84…`
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER,
        used_by TEXT,                           -- the identity that registered with it
        revoked INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX invitations_binding ON invitations(unit_code, phone);

    CREATE TABLE registration_failures (        -- wrong codes, per identity
        identity TEXT NOT NULL,
        at INTEGER NOT NULL
    );
    CREATE INDEX registration_failures_identity ON registration_failures(identity, at);

    CREATE TABLE registration_lockouts (
        identity TEXT PRIMARY KEY,
        locked_until INTEGER NOT NULL
    );
    """,
    # 9: what a bot of a metered channel needs to remember: how many messages each bot sent
    # in each calendar month (and the share of its quota admins were told of), the events
    # it received lately (a delivery that comes twice takes effect once), and the
    # identities already told that the bot is an automated system.
    """
    CREATE TABLE bot_sends (
        bot TEXT NOT NULL,
        month TEXT NOT NULL,                    -- YYYY-MM in FIELDTALLY_TZ
        sent INTEGER NOT NULL DEFAULT 0,        -- successful sends
        told INTEGER NOT NULL DEFAULT 0,        -- the highest share (%) admins were told of
        PRIMARY KEY (bot, month)
    );
    CREATE TABLE seen_events (
        bot TEXT NOT NULL,
        event_id TEXT NOT NULL,
        seen_at INTEGER NOT NULL,
        PRIMARY KEY (bot, event_id)
    );
    CREATE INDEX seen_events_age ON seen_events(bot, seen_at);
    CREATE TABLE greeted_identities (
        identity TEXT PRIMARY KEY,              -- `channel:id` of the person
        greeted_at INTEGER NOT NULL
    );
    """,
    # 10: results night (RESULTS.md): ballots' electoral units, their candidates, the polling
    # areas each counts, the confirmed counting records (append-only: a correction replaces,
    # the old one stays), photos of the signed records, and running totals per electoral unit
    # and per candidate, kept in step with the records. Areas and organizing units are
    # checked by the import, not by foreign keys: a units re-import keeps them in step.
    """
    CREATE TABLE electoral_units (
        code TEXT PRIMARY KEY,
        code_key TEXT NOT NULL UNIQUE,          -- lower(code): unique across every ballot
        ballot TEXT NOT NULL CHECK (ballot IN ('qh', 'tinh', 'huyen', 'xa')),
        name TEXT NOT NULL,
        seats INTEGER NOT NULL CHECK (seats >= 1),
        organizing_unit TEXT NOT NULL,          -- the administrative unit running it
        round INTEGER NOT NULL DEFAULT 1 CHECK (round IN (1, 2)),
        position INTEGER NOT NULL,
        locked INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX electoral_units_organizer ON electoral_units(organizing_unit);

    CREATE TABLE candidates (
        electoral_unit TEXT NOT NULL REFERENCES electoral_units(code) ON DELETE CASCADE,
        number INTEGER NOT NULL CHECK (number >= 1),
        name TEXT NOT NULL,
        birth_date TEXT NOT NULL,               -- YYYY-MM-DD
        PRIMARY KEY (electoral_unit, number)
    );

    CREATE TABLE area_ballots (                 -- the electoral unit an area counts for
        area_code TEXT NOT NULL,
        ballot TEXT NOT NULL,
        electoral_unit TEXT NOT NULL REFERENCES electoral_units(code) ON DELETE CASCADE,
        registered_voters INTEGER,              -- this ballot's list; NULL: the area's
        PRIMARY KEY (area_code, ballot)
    );
    CREATE INDEX area_ballots_unit ON area_ballots(electoral_unit);

    CREATE TABLE result_records (               -- append-only: rows are never deleted
        id INTEGER PRIMARY KEY,
        area_code TEXT NOT NULL,
        ballot TEXT NOT NULL,
        electoral_unit TEXT NOT NULL REFERENCES electoral_units(code),
        registered_voters INTEGER NOT NULL,     -- stated, else the imported list
        list_stated INTEGER NOT NULL,
        voted INTEGER NOT NULL,
        issued INTEGER NOT NULL,
        returned INTEGER NOT NULL,
        valid INTEGER NOT NULL,
        invalid INTEGER NOT NULL,
        votes TEXT NOT NULL,                    -- JSON list, ballot order
        loai TEXT,                              -- JSON list, or NULL when not given
        checked INTEGER NOT NULL,
        entered_by TEXT NOT NULL,
        entered_at INTEGER NOT NULL,
        chat TEXT,
        bot TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL DEFAULT '',
        replaces INTEGER REFERENCES result_records(id),
        replaced_by INTEGER REFERENCES result_records(id)
    );
    CREATE UNIQUE INDEX result_records_current ON result_records(area_code, ballot)
        WHERE replaced_by IS NULL;
    CREATE INDEX result_records_unit ON result_records(electoral_unit, area_code);

    CREATE TABLE record_photos (
        id INTEGER PRIMARY KEY,
        area_code TEXT NOT NULL,
        ballot TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        sent_by TEXT NOT NULL,
        sent_at INTEGER NOT NULL,
        file_ref TEXT NOT NULL DEFAULT '',
        chat TEXT,
        bot TEXT NOT NULL DEFAULT '',
        record_id INTEGER REFERENCES result_records(id)  -- NULL: waiting for its record
    );
    CREATE INDEX record_photos_area ON record_photos(area_code, ballot);

    CREATE TABLE electoral_unit_totals (        -- running totals, kept in step with records
        code TEXT PRIMARY KEY REFERENCES electoral_units(code) ON DELETE CASCADE,
        areas_mapped INTEGER NOT NULL DEFAULT 0,
        areas_reported INTEGER NOT NULL DEFAULT 0,
        areas_checked INTEGER NOT NULL DEFAULT 0,
        registered_voters INTEGER NOT NULL DEFAULT 0,
        reported_voters INTEGER NOT NULL DEFAULT 0,
        voted INTEGER NOT NULL DEFAULT 0,
        issued INTEGER NOT NULL DEFAULT 0,
        returned INTEGER NOT NULL DEFAULT 0,
        valid INTEGER NOT NULL DEFAULT 0,
        invalid INTEGER NOT NULL DEFAULT 0,
        last_record_at INTEGER
    );

    CREATE TABLE candidate_totals (
        electoral_unit TEXT NOT NULL,
        number INTEGER NOT NULL,
        votes INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (electoral_unit, number),
        FOREIGN KEY (electoral_unit, number) REFERENCES candidates(electoral_unit, number)
            ON DELETE CASCADE
    );
    """,
    # 11: the SMS channel (issue 16): a durable, paced outbox; what the gateway reported as
    # failed; the webhooks registered with the gateway; the numbers refused today; and, for
    # any channel, the keys of events already received (a gateway's redelivery under a new
    # id is recognised by its content).
    """
    CREATE TABLE inbox_seen (                   -- events received, by every key that names them
        bot TEXT NOT NULL,
        key TEXT NOT NULL,
        seen_at INTEGER NOT NULL,
        PRIMARY KEY (bot, key)
    );

    CREATE TABLE sms_outbox (                   -- every SMS, stored before the gateway gets it
        seq INTEGER PRIMARY KEY,                -- queue order
        id TEXT NOT NULL UNIQUE,                -- the message id given to the gateway
        bot TEXT NOT NULL,
        phone TEXT NOT NULL,                    -- E.164
        body TEXT NOT NULL,
        queued_at INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed')),
        sent_at INTEGER,                        -- epoch s the gateway accepted it (pacing)
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    );
    CREATE INDEX sms_outbox_queued ON sms_outbox(bot, state, seq);
    CREATE INDEX sms_outbox_sent ON sms_outbox(bot, sent_at);

    CREATE TABLE sms_failures (                 -- the gateway's sms:failed events
        seq INTEGER PRIMARY KEY,
        bot TEXT NOT NULL,
        outbox_id TEXT NOT NULL,                -- the message it was about (its outbox id)
        phone TEXT NOT NULL,
        reason TEXT NOT NULL,
        at INTEGER NOT NULL
    );

    CREATE TABLE sms_webhooks (                 -- what the gateway was asked to post to us
        bot TEXT NOT NULL,
        event TEXT NOT NULL,
        webhook_id TEXT NOT NULL,
        url TEXT NOT NULL,
        registered_at INTEGER NOT NULL,
        PRIMARY KEY (bot, event)
    );

    CREATE TABLE sms_refusals (                 -- an unknown number is refused once a day
        bot TEXT NOT NULL,
        phone TEXT NOT NULL,
        day TEXT NOT NULL,                      -- ISO date in FIELDTALLY_TZ
        PRIMARY KEY (bot, phone, day)
    );
    """,
    # 12: live dashboard links (issue 18): a random token, stored only as its SHA-256, bound
    # to one unit's subtree, expiring, revocable.
    """
    CREATE TABLE dashboard_links (
        token_hash TEXT PRIMARY KEY,            -- hex SHA-256 of the token (never the token)
        unit_code TEXT NOT NULL REFERENCES units(code) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,            -- epoch s: valid while now < expires_at
        revoked_at INTEGER,
        created_by TEXT NOT NULL
    );
    CREATE INDEX dashboard_links_unit ON dashboard_links(unit_code);
    """,
    # 13: results night in the chat: counting records read back and awaiting the sender's
    # `đúng` (one per sender), the warnings each confirmed record acknowledged, second
    # entries (double entry) with the fields that differ, and the results notices each chat
    # was told (once).
    """
    CREATE TABLE pending_records (
        sender TEXT PRIMARY KEY,
        bot TEXT NOT NULL DEFAULT '',
        chat TEXT NOT NULL,
        area_code TEXT NOT NULL,
        ballot TEXT NOT NULL,
        text TEXT NOT NULL,                     -- the message as cleaned: read again at `đúng`
        created_at INTEGER NOT NULL
    );
    CREATE INDEX pending_records_age ON pending_records(created_at);

    CREATE TABLE record_warnings (              -- the warnings a confirmation acknowledged
        record_id INTEGER PRIMARY KEY REFERENCES result_records(id),
        reasons TEXT NOT NULL                   -- JSON list of check reasons
    );

    CREATE TABLE second_entries (               -- double entry: the second person's numbers
        id INTEGER PRIMARY KEY,
        record_id INTEGER NOT NULL REFERENCES result_records(id),
        area_code TEXT NOT NULL,
        ballot TEXT NOT NULL,
        entered_by TEXT NOT NULL,
        entered_at INTEGER NOT NULL,
        text TEXT NOT NULL,
        differing TEXT NOT NULL                 -- JSON list of fields; [] when they match
    );
    CREATE INDEX second_entries_record ON second_entries(record_id);

    CREATE TABLE results_notices (              -- each chat told once per subject
        bot TEXT NOT NULL,
        chat TEXT NOT NULL,
        subject TEXT NOT NULL,                  -- `unit:<code>` or `ballot:<ballot>`
        sent_at INTEGER NOT NULL,
        PRIMARY KEY (bot, chat, subject)
    );
    """,
    # 14: the over-the-day chart's steps per unit and minute (issue 19), kept in step with
    # reports like the totals, and filled here from the reports already stored.
    """
    CREATE TABLE unit_steps (
        code TEXT NOT NULL,                     -- a unit with areas under it
        minute INTEGER NOT NULL,                -- epoch s, to the minute
        change INTEGER NOT NULL,                -- sum of its areas' count changes in it
        points INTEGER NOT NULL,                -- current counts at the minute (> 0)
        PRIMARY KEY (code, minute)
    ) WITHOUT ROWID;
    INSERT INTO unit_steps (code, minute, change, points)
    WITH RECURSIVE area_steps (code, minute, change, points) AS (
        SELECT area_code, minute, SUM(change), COUNT(*) FROM (
            SELECT area_code, at - at % 60 AS minute, voted - COALESCE(LAG(voted) OVER (
                PARTITION BY area_code ORDER BY at - at % 60,
                CASE WHEN kind = 'completion' THEN 1 ELSE 0 END, id), 0) AS change
            FROM reports WHERE replaced_by IS NULL AND kind != 'covid'
            AND area_code IN (SELECT code FROM units WHERE is_area = 1)
        ) AS changes GROUP BY area_code, minute
    ), chain (code, minute, change, points) AS (
        SELECT u.parent_code, area_steps.minute, area_steps.change, area_steps.points
        FROM area_steps JOIN units u ON u.code = area_steps.code WHERE u.parent_code IS NOT NULL
        UNION ALL
        SELECT u.parent_code, chain.minute, chain.change, chain.points
        FROM chain JOIN units u ON u.code = chain.code WHERE u.parent_code IS NOT NULL
    )
    SELECT code, minute, SUM(change), SUM(points) FROM chain GROUP BY code, minute
    """,
)

# The same schema for PostgreSQL: 64-bit integers (chat platforms' ids exceed 32 bits), identity
# ids, and foreign keys that a unit re-import may defer to the commit.
POSTGRES_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE units (
        code TEXT PRIMARY KEY,
        code_key TEXT NOT NULL UNIQUE,
        parent_code TEXT REFERENCES units(code) DEFERRABLE,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        depth INTEGER NOT NULL,
        is_area INTEGER NOT NULL,
        registered_voters BIGINT,
        staff BIGINT,
        position INTEGER NOT NULL,
        locked INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX units_parent ON units(parent_code, position);

    CREATE TABLE unit_contacts (
        unit_code TEXT NOT NULL REFERENCES units(code) ON DELETE CASCADE DEFERRABLE,
        phone TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('import', 'assign')),
        PRIMARY KEY (unit_code, phone, source)
    );
    CREATE INDEX unit_contacts_phone ON unit_contacts(phone);

    CREATE TABLE people (
        user_id BIGINT PRIMARY KEY,
        phone TEXT NOT NULL,
        name TEXT NOT NULL,
        chat_id BIGINT NOT NULL,
        registered_at BIGINT NOT NULL
    );
    CREATE INDEX people_phone ON people(phone);

    CREATE TABLE reports (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        area_code TEXT NOT NULL REFERENCES units(code) DEFERRABLE,
        kind TEXT NOT NULL CHECK (kind IN ('turnout', 'completion', 'covid')),
        at BIGINT NOT NULL,
        time_stated INTEGER NOT NULL,
        voted BIGINT,
        list_size BIGINT,
        staff_tested BIGINT,
        staff_total BIGINT,
        positives BIGINT,
        is_correction INTEGER NOT NULL,
        sender_id BIGINT NOT NULL,
        chat_id BIGINT NOT NULL,
        message_id BIGINT NOT NULL,
        line_index INTEGER NOT NULL,
        received_at BIGINT NOT NULL,
        text TEXT NOT NULL,
        replaced_by BIGINT REFERENCES reports(id) DEFERRABLE
    );
    CREATE INDEX reports_current ON reports(area_code) WHERE replaced_by IS NULL;
    CREATE INDEX reports_origin ON reports(chat_id, message_id);

    CREATE TABLE unit_totals (
        code TEXT PRIMARY KEY REFERENCES units(code) ON DELETE CASCADE DEFERRABLE,
        areas_total BIGINT NOT NULL DEFAULT 0,
        areas_reported BIGINT NOT NULL DEFAULT 0,
        areas_finished BIGINT NOT NULL DEFAULT 0,
        registered_voters BIGINT NOT NULL DEFAULT 0,
        voted BIGINT NOT NULL DEFAULT 0,
        staff_total BIGINT NOT NULL DEFAULT 0,
        staff_tested BIGINT NOT NULL DEFAULT 0,
        positives BIGINT NOT NULL DEFAULT 0,
        last_report_at BIGINT
    );

    CREATE TABLE processed_messages (
        chat_id BIGINT NOT NULL,
        message_id BIGINT NOT NULL,
        version BIGINT NOT NULL,
        replies TEXT NOT NULL,
        processed_at BIGINT NOT NULL,
        PRIMARY KEY (chat_id, message_id, version)
    );
    """,
    """
    CREATE TABLE subscriptions (
        chat_id BIGINT PRIMARY KEY,
        unit_code TEXT NOT NULL REFERENCES units(code) ON DELETE CASCADE DEFERRABLE,
        title TEXT NOT NULL,
        subscribed_by BIGINT NOT NULL,
        subscribed_at BIGINT NOT NULL,
        finished_notified INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX subscriptions_unit ON subscriptions(unit_code);
    """,
    """
    CREATE TABLE inbox (
        update_id BIGINT PRIMARY KEY,
        payload TEXT NOT NULL,
        received_at BIGINT NOT NULL
    );
    CREATE TABLE inbox_offset (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        next_update_id BIGINT NOT NULL
    );
    """,
    """
    CREATE TABLE audit_log (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        at BIGINT NOT NULL,
        user_id BIGINT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    """,
    """
    ALTER TABLE inbox ADD COLUMN bot_id BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE inbox DROP CONSTRAINT inbox_pkey;
    ALTER TABLE inbox ADD PRIMARY KEY (bot_id, update_id);
    ALTER TABLE inbox ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;

    ALTER TABLE inbox_offset DROP CONSTRAINT inbox_offset_pkey;
    ALTER TABLE inbox_offset DROP CONSTRAINT inbox_offset_id_check;
    ALTER TABLE inbox_offset RENAME COLUMN id TO bot_id;
    ALTER TABLE inbox_offset ALTER COLUMN bot_id TYPE BIGINT;
    UPDATE inbox_offset SET bot_id = 0;
    ALTER TABLE inbox_offset ADD PRIMARY KEY (bot_id);
    ALTER TABLE inbox_offset ADD COLUMN last_handled_at BIGINT;

    ALTER TABLE processed_messages ADD COLUMN bot_id BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE processed_messages DROP CONSTRAINT processed_messages_pkey;
    ALTER TABLE processed_messages ADD PRIMARY KEY (bot_id, chat_id, message_id, version);

    ALTER TABLE reports ADD COLUMN bot_id BIGINT NOT NULL DEFAULT 0;
    DROP INDEX reports_origin;
    CREATE INDEX reports_origin ON reports(bot_id, chat_id, message_id);

    ALTER TABLE subscriptions ADD COLUMN bot_id BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_pkey;
    ALTER TABLE subscriptions ADD PRIMARY KEY (bot_id, chat_id);

    CREATE TABLE store_meta (
        key TEXT PRIMARY KEY,
        value BIGINT NOT NULL
    );
    INSERT INTO store_meta VALUES ('units_generation', 0);
    """,
    """
    ALTER TABLE people DROP CONSTRAINT people_pkey;
    ALTER TABLE people ALTER COLUMN user_id TYPE TEXT USING 'telegram:' || user_id;
    ALTER TABLE people RENAME COLUMN user_id TO identity;
    ALTER TABLE people ADD PRIMARY KEY (identity);
    ALTER TABLE people ALTER COLUMN chat_id TYPE TEXT USING 'telegram:' || chat_id;
    ALTER TABLE people RENAME COLUMN chat_id TO chat;

    DROP INDEX reports_origin;
    ALTER TABLE reports ALTER COLUMN sender_id TYPE TEXT USING 'telegram:' || sender_id;
    ALTER TABLE reports RENAME COLUMN sender_id TO sender;
    ALTER TABLE reports ALTER COLUMN chat_id TYPE TEXT USING 'telegram:' || chat_id;
    ALTER TABLE reports RENAME COLUMN chat_id TO chat;
    ALTER TABLE reports ALTER COLUMN message_id TYPE TEXT USING message_id::TEXT;
    ALTER TABLE reports RENAME COLUMN message_id TO message_ref;
    ALTER TABLE reports ALTER COLUMN bot_id DROP DEFAULT;
    ALTER TABLE reports ALTER COLUMN bot_id TYPE TEXT
        USING CASE WHEN bot_id = 0 THEN '' ELSE 'telegram:' || bot_id END;
    ALTER TABLE reports ALTER COLUMN bot_id SET DEFAULT '';
    ALTER TABLE reports RENAME COLUMN bot_id TO bot;
    CREATE INDEX reports_origin ON reports(bot, chat, message_ref);

    ALTER TABLE processed_messages DROP CONSTRAINT processed_messages_pkey;
    ALTER TABLE processed_messages ALTER COLUMN bot_id DROP DEFAULT;
    ALTER TABLE processed_messages ALTER COLUMN bot_id TYPE TEXT
        USING CASE WHEN bot_id = 0 THEN '' ELSE 'telegram:' || bot_id END;
    ALTER TABLE processed_messages RENAME COLUMN bot_id TO bot;
    ALTER TABLE processed_messages ALTER COLUMN chat_id TYPE TEXT USING 'telegram:' || chat_id;
    ALTER TABLE processed_messages RENAME COLUMN chat_id TO chat;
    ALTER TABLE processed_messages ALTER COLUMN message_id TYPE TEXT USING message_id::TEXT;
    ALTER TABLE processed_messages RENAME COLUMN message_id TO message_ref;
    ALTER TABLE processed_messages RENAME COLUMN version TO revision;
    ALTER TABLE processed_messages ADD PRIMARY KEY (bot, chat, message_ref, revision);

    ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_pkey;
    ALTER TABLE subscriptions ALTER COLUMN bot_id DROP DEFAULT;
    ALTER TABLE subscriptions ALTER COLUMN bot_id TYPE TEXT
        USING CASE WHEN bot_id = 0 THEN '' ELSE 'telegram:' || bot_id END;
    ALTER TABLE subscriptions RENAME COLUMN bot_id TO bot;
    ALTER TABLE subscriptions ALTER COLUMN chat_id TYPE TEXT USING 'telegram:' || chat_id;
    ALTER TABLE subscriptions RENAME COLUMN chat_id TO chat;
    ALTER TABLE subscriptions ALTER COLUMN subscribed_by TYPE TEXT
        USING 'telegram:' || subscribed_by;
    ALTER TABLE subscriptions ADD PRIMARY KEY (bot, chat);

    CREATE TABLE inbox_v6 (
        seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        bot TEXT NOT NULL,
        event_id TEXT NOT NULL,
        payload TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        lease_until BIGINT NOT NULL DEFAULT 0,
        UNIQUE (bot, event_id)
    );
    INSERT INTO inbox_v6 (bot, event_id, payload, received_at, lease_until) SELECT
        CASE WHEN bot_id = 0 THEN '' ELSE 'telegram:' || bot_id END, update_id::TEXT,
        payload, received_at, lease_until FROM inbox ORDER BY bot_id, update_id;
    DROP TABLE inbox;
    ALTER TABLE inbox_v6 RENAME TO inbox;

    CREATE TABLE channel_cursors (
        bot TEXT PRIMARY KEY,
        cursor TEXT,
        last_handled_at BIGINT
    );
    INSERT INTO channel_cursors SELECT
        CASE WHEN bot_id = 0 THEN '' ELSE 'telegram:' || bot_id END,
        next_update_id::TEXT, last_handled_at FROM inbox_offset;
    DROP TABLE inbox_offset;

    ALTER TABLE audit_log ALTER COLUMN user_id TYPE TEXT
        USING CASE WHEN user_id = 0 THEN 'server:cli' ELSE 'telegram:' || user_id END;
    ALTER TABLE audit_log RENAME COLUMN user_id TO actor;
    """,
    # 7: media served over HTTPS (see SQLite's 7).
    """
    CREATE TABLE media (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL,
        content_type TEXT NOT NULL,
        filename TEXT NOT NULL,
        body BYTEA NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
    );
    CREATE INDEX media_expiry ON media(expires_at);
    """,
    # 8: invitation codes, wrong codes and lock-outs (as SQLite's 8).
    """
    CREATE TABLE invitations (
        code_hash TEXT PRIMARY KEY,
        unit_code TEXT NOT NULL,
        phone TEXT NOT NULL,
        issued_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        used_at BIGINT,
        used_by TEXT,
        revoked INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX invitations_binding ON invitations(unit_code, phone);

    CREATE TABLE registration_failures (
        identity TEXT NOT NULL,
        at BIGINT NOT NULL
    );
    CREATE INDEX registration_failures_identity ON registration_failures(identity, at);

    CREATE TABLE registration_lockouts (
        identity TEXT PRIMARY KEY,
        locked_until BIGINT NOT NULL
    );
    """,
    # 9: as SQLite's.
    """
    CREATE TABLE bot_sends (
        bot TEXT NOT NULL,
        month TEXT NOT NULL,
        sent BIGINT NOT NULL DEFAULT 0,
        told INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (bot, month)
    );
    CREATE TABLE seen_events (
        bot TEXT NOT NULL,
        event_id TEXT NOT NULL,
        seen_at BIGINT NOT NULL,
        PRIMARY KEY (bot, event_id)
    );
    CREATE INDEX seen_events_age ON seen_events(bot, seen_at);
    CREATE TABLE greeted_identities (
        identity TEXT PRIMARY KEY,
        greeted_at BIGINT NOT NULL
    );
    """,
    # 10: results night (as SQLite's 10).
    """
    CREATE TABLE electoral_units (
        code TEXT PRIMARY KEY,
        code_key TEXT NOT NULL UNIQUE,
        ballot TEXT NOT NULL CHECK (ballot IN ('qh', 'tinh', 'huyen', 'xa')),
        name TEXT NOT NULL,
        seats INTEGER NOT NULL CHECK (seats >= 1),
        organizing_unit TEXT NOT NULL,
        round INTEGER NOT NULL DEFAULT 1 CHECK (round IN (1, 2)),
        position INTEGER NOT NULL,
        locked INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX electoral_units_organizer ON electoral_units(organizing_unit);

    CREATE TABLE candidates (
        electoral_unit TEXT NOT NULL REFERENCES electoral_units(code) ON DELETE CASCADE,
        number INTEGER NOT NULL CHECK (number >= 1),
        name TEXT NOT NULL,
        birth_date TEXT NOT NULL,
        PRIMARY KEY (electoral_unit, number)
    );

    CREATE TABLE area_ballots (
        area_code TEXT NOT NULL,
        ballot TEXT NOT NULL,
        electoral_unit TEXT NOT NULL REFERENCES electoral_units(code) ON DELETE CASCADE,
        registered_voters BIGINT,
        PRIMARY KEY (area_code, ballot)
    );
    CREATE INDEX area_ballots_unit ON area_ballots(electoral_unit);

    CREATE TABLE result_records (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        area_code TEXT NOT NULL,
        ballot TEXT NOT NULL,
        electoral_unit TEXT NOT NULL REFERENCES electoral_units(code),
        registered_voters BIGINT NOT NULL,
        list_stated INTEGER NOT NULL,
        voted BIGINT NOT NULL,
        issued BIGINT NOT NULL,
        returned BIGINT NOT NULL,
        valid BIGINT NOT NULL,
        invalid BIGINT NOT NULL,
        votes TEXT NOT NULL,
        loai TEXT,
        checked INTEGER NOT NULL,
        entered_by TEXT NOT NULL,
        entered_at BIGINT NOT NULL,
        chat TEXT,
        bot TEXT NOT NULL DEFAULT '',
        text TEXT NOT NULL DEFAULT '',
        replaces BIGINT REFERENCES result_records(id),
        replaced_by BIGINT REFERENCES result_records(id)
    );
    CREATE UNIQUE INDEX result_records_current ON result_records(area_code, ballot)
        WHERE replaced_by IS NULL;
    CREATE INDEX result_records_unit ON result_records(electoral_unit, area_code);

    CREATE TABLE record_photos (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        area_code TEXT NOT NULL,
        ballot TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        sent_by TEXT NOT NULL,
        sent_at BIGINT NOT NULL,
        file_ref TEXT NOT NULL DEFAULT '',
        chat TEXT,
        bot TEXT NOT NULL DEFAULT '',
        record_id BIGINT REFERENCES result_records(id)
    );
    CREATE INDEX record_photos_area ON record_photos(area_code, ballot);

    CREATE TABLE electoral_unit_totals (
        code TEXT PRIMARY KEY REFERENCES electoral_units(code) ON DELETE CASCADE,
        areas_mapped INTEGER NOT NULL DEFAULT 0,
        areas_reported INTEGER NOT NULL DEFAULT 0,
        areas_checked INTEGER NOT NULL DEFAULT 0,
        registered_voters BIGINT NOT NULL DEFAULT 0,
        reported_voters BIGINT NOT NULL DEFAULT 0,
        voted BIGINT NOT NULL DEFAULT 0,
        issued BIGINT NOT NULL DEFAULT 0,
        returned BIGINT NOT NULL DEFAULT 0,
        valid BIGINT NOT NULL DEFAULT 0,
        invalid BIGINT NOT NULL DEFAULT 0,
        last_record_at BIGINT
    );

    CREATE TABLE candidate_totals (
        electoral_unit TEXT NOT NULL,
        number INTEGER NOT NULL,
        votes BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (electoral_unit, number),
        FOREIGN KEY (electoral_unit, number) REFERENCES candidates(electoral_unit, number)
            ON DELETE CASCADE
    );
    """,
    # 11: the SMS channel's outbox, failures, webhooks and refusals; the keys of events seen.
    """
    CREATE TABLE inbox_seen (
        bot TEXT NOT NULL,
        key TEXT NOT NULL,
        seen_at BIGINT NOT NULL,
        PRIMARY KEY (bot, key)
    );

    CREATE TABLE sms_outbox (
        seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        bot TEXT NOT NULL,
        phone TEXT NOT NULL,
        body TEXT NOT NULL,
        queued_at BIGINT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed')),
        sent_at BIGINT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    );
    CREATE INDEX sms_outbox_queued ON sms_outbox(bot, state, seq);
    CREATE INDEX sms_outbox_sent ON sms_outbox(bot, sent_at);

    CREATE TABLE sms_failures (
        seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        bot TEXT NOT NULL,
        outbox_id TEXT NOT NULL,
        phone TEXT NOT NULL,
        reason TEXT NOT NULL,
        at BIGINT NOT NULL
    );

    CREATE TABLE sms_webhooks (
        bot TEXT NOT NULL,
        event TEXT NOT NULL,
        webhook_id TEXT NOT NULL,
        url TEXT NOT NULL,
        registered_at BIGINT NOT NULL,
        PRIMARY KEY (bot, event)
    );

    CREATE TABLE sms_refusals (
        bot TEXT NOT NULL,
        phone TEXT NOT NULL,
        day TEXT NOT NULL,
        PRIMARY KEY (bot, phone, day)
    );
    """,
    """
    CREATE TABLE dashboard_links (
        token_hash TEXT PRIMARY KEY,
        unit_code TEXT NOT NULL REFERENCES units(code) ON DELETE CASCADE DEFERRABLE,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        revoked_at BIGINT,
        created_by TEXT NOT NULL
    );
    CREATE INDEX dashboard_links_unit ON dashboard_links(unit_code);
    """,
    # 13: results night in the chat (as SQLite's 13).
    """
    CREATE TABLE pending_records (
        sender TEXT PRIMARY KEY,
        bot TEXT NOT NULL DEFAULT '',
        chat TEXT NOT NULL,
        area_code TEXT NOT NULL,
        ballot TEXT NOT NULL,
        text TEXT NOT NULL,                     -- the message as cleaned: read again at `đúng`
        created_at BIGINT NOT NULL
    );
    CREATE INDEX pending_records_age ON pending_records(created_at);

    CREATE TABLE record_warnings (              -- the warnings a confirmation acknowledged
        record_id BIGINT PRIMARY KEY REFERENCES result_records(id),
        reasons TEXT NOT NULL                   -- JSON list of check reasons
    );

    CREATE TABLE second_entries (               -- double entry: the second person's numbers
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        record_id BIGINT NOT NULL REFERENCES result_records(id),
        area_code TEXT NOT NULL,
        ballot TEXT NOT NULL,
        entered_by TEXT NOT NULL,
        entered_at BIGINT NOT NULL,
        text TEXT NOT NULL,
        differing TEXT NOT NULL                 -- JSON list of fields; [] when they match
    );
    CREATE INDEX second_entries_record ON second_entries(record_id);

    CREATE TABLE results_notices (              -- each chat told once per subject
        bot TEXT NOT NULL,
        chat TEXT NOT NULL,
        subject TEXT NOT NULL,                  -- `unit:<code>` or `ballot:<ballot>`
        sent_at BIGINT NOT NULL,
        PRIMARY KEY (bot, chat, subject)
    );
    """,
    # 14: the over-the-day chart's steps per unit and minute (as SQLite's 14).
    """
    CREATE TABLE unit_steps (
        code TEXT NOT NULL,
        minute BIGINT NOT NULL,
        change BIGINT NOT NULL,
        points BIGINT NOT NULL,
        PRIMARY KEY (code, minute)
    );
    INSERT INTO unit_steps (code, minute, change, points)
    WITH RECURSIVE area_steps (code, minute, change, points) AS (
        SELECT area_code, minute, SUM(change), COUNT(*) FROM (
            SELECT area_code, at - at % 60 AS minute, voted - COALESCE(LAG(voted) OVER (
                PARTITION BY area_code ORDER BY at - at % 60,
                CASE WHEN kind = 'completion' THEN 1 ELSE 0 END, id), 0) AS change
            FROM reports WHERE replaced_by IS NULL AND kind != 'covid'
            AND area_code IN (SELECT code FROM units WHERE is_area = 1)
        ) AS changes GROUP BY area_code, minute
    ), chain (code, minute, change, points) AS (
        SELECT u.parent_code, area_steps.minute, area_steps.change, area_steps.points
        FROM area_steps JOIN units u ON u.code = area_steps.code WHERE u.parent_code IS NOT NULL
        UNION ALL
        SELECT u.parent_code, chain.minute, chain.change, chain.points
        FROM chain JOIN units u ON u.code = chain.code WHERE u.parent_code IS NOT NULL
    )
    SELECT code, minute, SUM(change), SUM(points) FROM chain GROUP BY code, minute
    """,
)

assert len(SQLITE_MIGRATIONS) == len(POSTGRES_MIGRATIONS), "every migration exists for both"
SCHEMA_VERSION = len(SQLITE_MIGRATIONS)
