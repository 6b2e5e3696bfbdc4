"""LinkedIn's official archives of a member's inbox: the data export ("Get a copy of
your data") and the portability API's snapshot, which holds the same rows.

LinkedIn documents no layout for this file; what is read here is what real archives
hold, from 2018 to 2026 (headers are matched by name, never by position):

- since 2021, `messages.csv` with `CONVERSATION ID, CONVERSATION TITLE, FROM, SENDER
  PROFILE URL, TO, DATE, SUBJECT, CONTENT, FOLDER`, to which later archives added
  `RECIPIENT PROFILE URLS` (after `TO`), `ATTACHMENTS` and the draft flags `IS MESSAGE
  DRAFT` / `IS CONVERSATION DRAFT`. `DATE` is `YYYY-MM-DD HH:MM:SS UTC`; `CONVERSATION ID`
  is LinkedIn's `2-...` thread id, the one every API carries too. `FOLDER` is `INBOX`,
  `ARCHIVE`, `SPAM` or empty, the same for every row of a conversation;
- 2018's `Messages.csv`: `From, To, Date, Subject, Content, Direction, Folder`, with US
  dates (`10/16/18, 8:36 AM`, no time zone: read as UTC [inferred]), `Direction`
  `INCOMING`/`OUTGOING` and `Folder` `INBOX`/`SENT`/`ARCHIVED`, and no conversation id:
  a conversation is everything exchanged with the same other party.

A "Complete" archive also holds files with the inbox's columns that are not the inbox
(`guide_messages.csv`, `learning_role_play_messages.csv`, `learning_coach_messages.csv`,
`coach_messages.csv`): only `messages.csv` (any case) at the archive's root or in its top
folder is read, and the others are named in a warning.

The file has no message id: one is made from the thread, time, sender and content, so a
newer archive yields the same id for the same message and a target updates nothing twice.
It does not mark the member's own messages either (2018's `Direction` aside): the member
is the one person found in every conversation, as a sender or among the recipients, which
is how `is_me` is told (and left null where it cannot be). Names are never split at a
comma followed by a space (`Ada Example, PhD` is one person); group chats join names
with a bare `,`, and `RECIPIENT PROFILE URLS`, where present, lists one URL per member.

Rows are read once, streamed from the ZIP (never extracted): each becomes a record as far
as the row alone tells, while who is who (the member, the URL a row gives a name) is
learned into a temporary SQLite database, not memory, and settled in the records as the
message index reads them back. Memory stays flat whatever the archive's size, and
however many conversations and people it holds.

The package, read by both the export and the portability adapters:

- `files`: where the inbox is in a ZIP or folder, its encoding, its rows (strictly: a
  file cut off mid-cell is damaged);
- `layouts`: a row of any layout as today's names and as our record, as far as the row
  alone tells (dates, names, folders, drafts, the synthesized message id);
- `people`: who is who, learned from every row into a scratch database (the member, the
  URL another row gives a name) and settled in the records as the index reads them back;
- `reading`: rows to records, with the member found once every row is read.
"""
