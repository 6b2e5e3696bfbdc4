"""The SQLite tables and queries of who is who in an archive (`people.People` runs them).

Rows teach, table by table (`LEARNED`): who is in which conversation by key, senders and
`TO` cells without a URL, the first URL a name is given; once every row is in, `RESOLVE`
joins senders without a URL to their conversations and lists the conversations between
two or more people (`known`), where the member is looked for.
"""

PEOPLE_SCHEMA = """
-- Every conversation a row is in (one with nobody named in it too).
CREATE TABLE conversations (id TEXT PRIMARY KEY) WITHOUT ROWID;
-- Who is in which conversation, by key: people a profile URL names (senders, and
-- recipients where the row lists URLs), and, once every row is in, senders without one.
CREATE TABLE members (
    conversation TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (conversation, key)
) WITHOUT ROWID;
-- Senders without a URL, by name: their key is known once every row is in.
CREATE TABLE sender_names (
    conversation TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (conversation, name)
) WITHOUT ROWID;
-- `TO` cells of rows that list no recipient URL (2021's layout): whom they name is only
-- known once the member is a candidate.
CREATE TABLE to_cells (
    conversation TEXT NOT NULL, cell TEXT NOT NULL, PRIMARY KEY (conversation, cell)
) WITHOUT ROWID;
-- The first URL any row gives with a name (and that URL's key), the first name with a key.
CREATE TABLE url_of_name (name TEXT PRIMARY KEY, url TEXT NOT NULL, key TEXT NOT NULL)
    WITHOUT ROWID;
CREATE TABLE name_of_key (key TEXT PRIMARY KEY, name TEXT NOT NULL, name_key TEXT NOT NULL)
    WITHOUT ROWID;
CREATE TABLE urlless_senders (name TEXT PRIMARY KEY) WITHOUT ROWID;
"""
# Once every row is in: senders without a URL join their conversations by the key their
# name has (a URL another row gives it, else the name), and the conversations between
# two or more people are listed with their size (people and TO cells).
RESOLVE = """
INSERT OR IGNORE INTO members (conversation, key)
    SELECT s.conversation, coalesce(nullif(u.key, ''), s.name) FROM sender_names s
    LEFT JOIN url_of_name u ON u.name = s.name AND s.name != '';
CREATE INDEX members_by_key ON members (key);
CREATE INDEX name_of_key_by_name ON name_of_key (name_key);
CREATE TABLE known (conversation TEXT PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO known (conversation, size)
    SELECT conversation, keys + cells FROM (
        SELECT c.id AS conversation,
            (SELECT count(*) FROM members m WHERE m.conversation = c.id) AS keys,
            (SELECT count(*) FROM to_cells t WHERE t.conversation = c.id) AS cells
        FROM conversations c
    ) WHERE keys + (cells > 0) >= 2;
"""
SMALLEST_KNOWN = "SELECT conversation FROM known ORDER BY size, conversation LIMIT 1"
IN_SOME_KNOWN = (
    "SELECT 1 FROM members m JOIN known k ON k.conversation = m.conversation "
    "WHERE m.key = ? LIMIT 1"
)
# The people in the most known conversations by key (senders, listed recipients).
BUSIEST_KEYS = """
SELECT m.key FROM members m JOIN known k ON k.conversation = m.conversation
GROUP BY m.key ORDER BY count(*) DESC, m.key LIMIT 5
"""
# The known conversations' TO cells, a conversation's together.
KNOWN_TO_CELLS = (
    "SELECT t.conversation, t.cell FROM to_cells t JOIN known k ON k.conversation = t.conversation "
    "ORDER BY t.conversation"
)
# Known conversations a person is not among the keys of, with their TO cells (NULL: none).
WITHOUT = """
SELECT k.conversation, t.cell FROM known k LEFT JOIN to_cells t ON t.conversation = k.conversation
WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.conversation = k.conversation AND m.key = ?)
ORDER BY k.conversation
"""
# Keys of the known conversations' people with no name of their own, whose key is `?` as
# a name (`name_key` is the Python function).
UNNAMED_CALLED = """
SELECT DISTINCT m.key FROM members m JOIN known k ON k.conversation = m.conversation
WHERE name_key(m.key) = ? AND NOT EXISTS (SELECT 1 FROM name_of_key n WHERE n.key = m.key)
"""
URLLESS_SENDER = """
SELECT 1 FROM urlless_senders s LEFT JOIN url_of_name u ON u.name = s.name
WHERE s.name != '' AND coalesce(nullif(u.key, ''), s.name) = ? LIMIT 1
"""
# What rows teach, table by table (a row already there is kept: the first wins).
LEARNED = (
    "INSERT OR IGNORE INTO members VALUES (?, ?)",
    "INSERT OR IGNORE INTO sender_names VALUES (?, ?)",
    "INSERT OR IGNORE INTO to_cells VALUES (?, ?)",
    "INSERT OR IGNORE INTO url_of_name VALUES (?, ?, ?)",
    "INSERT OR IGNORE INTO name_of_key VALUES (?, ?, ?)",
    "INSERT OR IGNORE INTO urlless_senders VALUES (?)",
)
