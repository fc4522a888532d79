internal import GRDB

/// The index schema as named, append-only migrations. Never edit a registered migration:
/// add a new one, and bump `version`.
enum Schema {
  static let version = 8

  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1 documents, chunks, fts, meta") { db in
      try db.execute(sql: """
        CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
        CREATE TABLE roots (path TEXT PRIMARY KEY NOT NULL);
        CREATE TABLE documents (
          id INTEGER PRIMARY KEY,
          path TEXT NOT NULL UNIQUE,
          kind TEXT,
          sha256 TEXT NOT NULL,
          size INTEGER NOT NULL,
          mtime_ns INTEGER NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('indexed', 'empty', 'skipped', 'failed')),
          reason TEXT,
          chunk_count INTEGER NOT NULL DEFAULT 0,
          token_count INTEGER NOT NULL DEFAULT 0,
          updated_at REAL NOT NULL DEFAULT (julianday('now'))
        );
        CREATE TABLE chunks (
          id INTEGER PRIMARY KEY,
          document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
          ordinal INTEGER NOT NULL,
          first_line INTEGER NOT NULL,
          last_line INTEGER NOT NULL,
          page INTEGER,
          byte_start INTEGER NOT NULL,
          byte_end INTEGER NOT NULL,
          section TEXT,
          token_count INTEGER NOT NULL,
          text TEXT NOT NULL,
          UNIQUE (document_id, ordinal)
        );
        CREATE VIRTUAL TABLE chunks_fts USING fts5(
          text, content = 'chunks', content_rowid = 'id', tokenize = 'porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
          INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
          INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END;
        CREATE TRIGGER chunks_au AFTER UPDATE OF text ON chunks BEGIN
          INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
          INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
        END;
        """)
      try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('schema_version', '1')")
    }
    migrator.registerMigration("v2 vectors") { db in
      try db.execute(sql: """
        CREATE TABLE vectors (
          chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
          vector BLOB NOT NULL
        );
        UPDATE meta SET value = '2' WHERE key = 'schema_version';
        """)
    }
    migrator.registerMigration("v3 chats, turns") { db in
      // A chat is a conversation with `tome chat`; each turn keeps the question as typed, the
      // standalone question retrieval used, the answer, and the answer's details as JSON
      // (citations, evidence, passages) so `/sources` and `/open` work after a restart.
      try db.execute(sql: """
        CREATE TABLE chats (
          id INTEGER PRIMARY KEY,
          title TEXT NOT NULL,
          created_at REAL NOT NULL DEFAULT (julianday('now')),
          updated_at REAL NOT NULL DEFAULT (julianday('now'))
        );
        CREATE TABLE turns (
          id INTEGER PRIMARY KEY,
          chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
          ordinal INTEGER NOT NULL,
          question TEXT NOT NULL,
          standalone_question TEXT NOT NULL,
          strategy TEXT NOT NULL,
          answer TEXT NOT NULL,
          details TEXT NOT NULL,
          created_at REAL NOT NULL DEFAULT (julianday('now')),
          UNIQUE (chat_id, ordinal)
        );
        UPDATE meta SET value = '3' WHERE key = 'schema_version';
        """)
    }
    migrator.registerMigration("v4 jobs, job_results") { db in
      // A batch job is identified by its key (a digest of the input file's content and the
      // answering settings), so re-running the same input with the same settings resumes it.
      // One row per answered question: a killed job never answers a question twice.
      try db.execute(sql: """
        CREATE TABLE jobs (
          id INTEGER PRIMARY KEY,
          key TEXT NOT NULL UNIQUE,
          input_path TEXT NOT NULL,
          settings TEXT NOT NULL,
          total INTEGER NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('running', 'finished')),
          created_at REAL NOT NULL DEFAULT (julianday('now')),
          finished_at REAL
        );
        CREATE TABLE job_results (
          job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
          question_id TEXT NOT NULL,
          line INTEGER NOT NULL,
          result TEXT NOT NULL,
          created_at REAL NOT NULL DEFAULT (julianday('now')),
          PRIMARY KEY (job_id, question_id)
        );
        UPDATE meta SET value = '4' WHERE key = 'schema_version';
        """)
    }
    migrator.registerMigration("v5 chunk headers, search terms") { db in
      // Chunks carry a short header (document title, section, page) that is embedded and
      // BM25-indexed with their text, and extra search terms (numbers without thousands
      // separators: "1,577" is also 1577). FTS5 indexes text, header and terms; snippets
      // still come from the text column alone. Existing chunks get no header until their
      // files are re-chunked (the chunker signature changed, so the next ingest does it).
      try db.execute(sql: """
        ALTER TABLE chunks ADD COLUMN header TEXT;
        ALTER TABLE chunks ADD COLUMN search_terms TEXT;
        DROP TRIGGER chunks_ai;
        DROP TRIGGER chunks_ad;
        DROP TRIGGER chunks_au;
        DROP TABLE chunks_fts;
        CREATE VIRTUAL TABLE chunks_fts USING fts5(
          text, header, search_terms, content = 'chunks', content_rowid = 'id',
          tokenize = 'porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
          INSERT INTO chunks_fts(rowid, text, header, search_terms) VALUES (new.id, new.text, new.header, new.search_terms);
        END;
        CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
          INSERT INTO chunks_fts(chunks_fts, rowid, text, header, search_terms)
            VALUES ('delete', old.id, old.text, old.header, old.search_terms);
        END;
        CREATE TRIGGER chunks_au AFTER UPDATE OF text, header, search_terms ON chunks BEGIN
          INSERT INTO chunks_fts(chunks_fts, rowid, text, header, search_terms)
            VALUES ('delete', old.id, old.text, old.header, old.search_terms);
          INSERT INTO chunks_fts(rowid, text, header, search_terms) VALUES (new.id, new.text, new.header, new.search_terms);
        END;
        INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild');
        UPDATE meta SET value = '5' WHERE key = 'schema_version';
        """)
    }
    migrator.registerMigration("v6 vectors generation, queries") { db in
      // A graph index (graph-*.bin beside this file) is derived from the vectors; it records
      // the generation it was built at and is stale when this counter has moved. Triggers, not
      // application code, bump it, because chunk deletions remove vectors by cascade.
      // `index_uuid` tells this database from a deleted and recreated one at the same path,
      // whose generation restarts at 0.
      // `queries` keeps questions asked and generated: the training queries of RoarGraph.
      try db.execute(sql: """
        INSERT OR IGNORE INTO meta(key, value) VALUES ('vectors_generation', '0');
        INSERT OR IGNORE INTO meta(key, value) VALUES ('index_uuid', lower(hex(randomblob(16))));
        CREATE TRIGGER vectors_generation_ai AFTER INSERT ON vectors BEGIN
          UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'vectors_generation';
        END;
        CREATE TRIGGER vectors_generation_ad AFTER DELETE ON vectors BEGIN
          UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'vectors_generation';
        END;
        CREATE TRIGGER vectors_generation_au AFTER UPDATE ON vectors BEGIN
          UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'vectors_generation';
        END;
        CREATE TABLE queries (
          id INTEGER PRIMARY KEY,
          text TEXT NOT NULL UNIQUE,
          source TEXT NOT NULL CHECK (source IN ('asked', 'generated')),
          created_at REAL NOT NULL DEFAULT (julianday('now'))
        );
        UPDATE meta SET value = '6' WHERE key = 'schema_version';
        """)
    }
    migrator.registerMigration("v7 records") { db in
      // The record graph: answers kept as nodes, with edges to the chunks behind them (`cited`:
      // verified citations and attributions; the rest were only shown to the model).
      // `record_chunks.chunk_id` has no foreign key: a deleted chunk must still find its
      // records, and the trigger marks them stale. Re-ingest deletes a changed document, its
      // chunks go by cascade, and the trigger fires for each of them (SQLite runs triggers for
      // rows a foreign-key action deletes).
      try db.execute(sql: """
        CREATE TABLE records (
          id INTEGER PRIMARY KEY,
          question TEXT NOT NULL,
          answer TEXT NOT NULL,
          strategy TEXT NOT NULL,
          model TEXT,
          origin TEXT NOT NULL CHECK (origin IN ('ask', 'chat', 'batch', 'serve', 'simulated')),
          created_at REAL NOT NULL DEFAULT (julianday('now')),
          vector BLOB NOT NULL,
          stale INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX records_created ON records(created_at);
        CREATE TABLE record_chunks (
          record_id INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
          chunk_id INTEGER NOT NULL,
          cited INTEGER NOT NULL,
          position INTEGER NOT NULL,
          PRIMARY KEY (record_id, chunk_id)
        );
        CREATE INDEX record_chunks_chunk ON record_chunks(chunk_id);
        CREATE TRIGGER records_stale_ad AFTER DELETE ON chunks BEGIN
          UPDATE records SET stale = 1
            WHERE stale = 0 AND id IN (SELECT record_id FROM record_chunks WHERE chunk_id = old.id);
        END;
        UPDATE meta SET value = '7' WHERE key = 'schema_version';
        """)
    }
    migrator.registerMigration("v8 kv pages") { db in
      // A chunk's keys and values for one model (`tome kv build`): the bytes live in a page file
      // under `kvpages/`, this row says where. The cascade drops the row with its chunk, so a
      // re-ingested file's old pages are never read; their bytes stay in the file until it is
      // compacted.
      try db.execute(sql: """
        CREATE TABLE kv_pages (
          chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
          model TEXT NOT NULL,
          file TEXT NOT NULL,
          offset INTEGER NOT NULL,
          length INTEGER NOT NULL,
          token_count INTEGER NOT NULL
        );
        CREATE INDEX kv_pages_file ON kv_pages(file);
        UPDATE meta SET value = '8' WHERE key = 'schema_version';
        """)
    }
    return migrator
  }
}
