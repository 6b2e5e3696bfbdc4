"""The message index's SQLite tables and queries (`message_index.MessageIndex` runs them).

A message is a row of `messages` (its body the fields no column holds), who is named in
which conversation a row of `people`; `INDEXES`, built once every message is in, make
"one conversation, newest first" a range scan, and `read` each conversation's order,
newest time and digest (`tap_linkedin_messages.emitted`); `ranks` is the order the
conversations are handed over in.
"""

SCHEMA = """
CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    -- when the message last changed: sent, or edited or deleted since
    changed_at TEXT NOT NULL,
    folder TEXT,
    body BLOB NOT NULL
);
-- Who is named in which conversation, each (name, URL) pair once, in the order first met:
-- who they are is settled as the conversation is read back (`Settle.others`).
CREATE TABLE people (
    seq INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    person BLOB NOT NULL,
    UNIQUE (conversation_id, person)
);
-- What earlier runs emitted, conversation by conversation (`tap_linkedin_messages.emitted`).
CREATE TABLE emitted_before (
    key INTEGER PRIMARY KEY, digest INTEGER NOT NULL, newest INTEGER NOT NULL
);
-- The conversations to hand over, in their order (a rank each); `after`: only their
-- messages sent after it (null: all of them).
CREATE TABLE ranks (
    rank INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL, activity TEXT NOT NULL, after TEXT
);
"""
# Built once every message is in: each conversation's messages as one range scan, newest
# first, then its people in order; and each conversation's order, newest time and digest.
INDEXES = """
CREATE INDEX by_conversation ON messages (conversation_id, sent_at DESC, seq);
CREATE INDEX people_in_order ON people (conversation_id, seq);
CREATE TABLE read AS
    SELECT conversation_id, max(changed_at) AS activity, min(seq) AS first_seq,
        max(sent_at) AS newest, id_digest(DISTINCT message_id || ' ' || changed_at) AS digest,
        id_hash(conversation_id) AS key, count(DISTINCT message_id) AS messages
    FROM messages GROUP BY conversation_id;
"""
# Every conversation read, in order: newest activity first, ties in reverse order of first
# appearance; with what earlier runs emitted of it (null: nothing known).
READ_IN_ORDER = """
SELECT c.conversation_id, c.activity, c.digest, e.digest, e.newest
FROM read c LEFT JOIN emitted_before e ON e.key = c.key
ORDER BY c.activity DESC, c.first_seq DESC
"""
ADD_EMITTED_BEFORE = "INSERT OR REPLACE INTO emitted_before VALUES (?, ?, ?)"
RANK = "INSERT INTO ranks (conversation_id, activity, after) VALUES (?, ?, ?)"
RANK_ALL = (
    "INSERT INTO ranks (conversation_id, activity) "
    "SELECT conversation_id, activity FROM read ORDER BY activity DESC, first_seq DESC"
)
DIGEST_AFTER = (
    "SELECT id_digest(DISTINCT message_id || ' ' || changed_at) FROM messages "
    "WHERE conversation_id = ? AND sent_at > ?"
)
# What this read saw of each conversation, and what earlier runs emitted of the others.
EMITTED_NOW = """
SELECT key, digest, newest FROM read
UNION ALL
SELECT key, digest, newest FROM emitted_before WHERE key NOT IN (SELECT key FROM read)
ORDER BY key
"""
ADD_MESSAGE = (
    "INSERT INTO messages (message_id, conversation_id, sent_at, changed_at, folder, body) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
ADD_PERSON = "INSERT OR IGNORE INTO people (conversation_id, person) VALUES (?, ?)"
# Every message, conversation after conversation in rank order, each newest first: one
# cursor read a row at a time (the ranks drive a range scan of the index each, so nothing
# is sorted, in memory or on disk). CROSS JOIN keeps the ranks as the outer loop.
ALL_MESSAGES = """
SELECT r.rank, m.sent_at, r.conversation_id, r.activity, m.message_id, m.changed_at,
    m.folder, m.body, r.after
FROM ranks r CROSS JOIN messages m ON m.conversation_id = r.conversation_id
ORDER BY r.rank, m.sent_at DESC, m.seq
"""
ALL_PEOPLE = """
SELECT r.rank, p.person
FROM ranks r CROSS JOIN people p ON p.conversation_id = r.conversation_id
ORDER BY r.rank, p.seq
"""
COUNT_CONVERSATIONS = "SELECT count(*) FROM ranks"
#: A folder that says where one message is (the member's own, in SENT), not where its
#: conversation is: a conversation is in it only where no row names another folder.
MESSAGE_FOLDER = "SENT"
# The folder of the newest message that says one, where the newest time's do not (the
# member's SENT rows), as its last copy says (a newer archive knows where it was moved to).
FOLDER_OF = (
    "SELECT folder FROM messages WHERE conversation_id = ? AND folder IS NOT NULL "
    f"ORDER BY folder = '{MESSAGE_FOLDER}', sent_at DESC, seq DESC LIMIT 1"
)
